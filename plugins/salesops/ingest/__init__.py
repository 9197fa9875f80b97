"""Extract-load (ingest): a source's changes -> landing Parquet -> raw -> staging.

- :mod:`~salesops.ingest.batches` — :class:`Batch` (one window of one object, as landed), its
  deterministic id, :class:`LoadResult`, the audit status of a failed load;
- :mod:`~salesops.ingest.watermarks` — where the next read starts (watermark, resume checkpoint);
- :mod:`~salesops.ingest.extract` — :func:`extract_batch`: read and land a batch;
- :mod:`~salesops.ingest.load` — :func:`load_batch`: landing -> raw -> quarantine -> staging in
  one transaction (write, audit, publish);
- :mod:`~salesops.ingest.pipeline` — :func:`extract_and_load`, both steps object by object;
- :mod:`~salesops.ingest.tasks` — the crm_extract_load DAG's task bodies.

This package reads sources and writes through :mod:`salesops.warehouse`, which only stores (it
imports neither sources nor ingest). Nothing is imported here, so DAG files stay light.
"""
