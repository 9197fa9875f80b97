"""salesops: the library the DAGs call (sources, warehouse, quality, kpis, bulk_update, packs)."""
