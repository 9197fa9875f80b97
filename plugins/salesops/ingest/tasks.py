"""Task bodies of the crm_extract_load DAG (extract, load, summarise), kept out of the DAG file so they are testable.

Each function takes plain values (what Airflow params and XComs carry) and returns plain values.
"""

from __future__ import annotations

import logging
from typing import Any

from salesops.config import object_manifest

log = logging.getLogger(__name__)


def resolve_objects(requested: list[str] | None) -> list[str]:
    """The manifest objects to run, in manifest order; unknown names are an error, not a skip."""
    manifest = object_manifest()
    if not requested:
        return list(manifest)
    unknown = sorted(set(requested) - set(manifest))
    if unknown:
        raise ValueError(
            f"unknown objects {unknown}; the manifest (include/config/objects.yaml) has {list(manifest)}"
        )
    return [name for name in manifest if name in requested]


def build_source(params: dict[str, Any]) -> Any:
    """The source named by the DAG params (``source`` and the options that kind takes)."""
    from salesops.sources.registry import get_source, options_for

    kind = params.get("source") or "demo"
    options = options_for(
        kind,
        folder=params.get("csv_folder"),
        column_map=params.get("csv_column_map"),
        conn_id=params.get("source_conn_id"),
    )
    return get_source(kind, **options)


def extract(
    object_name: str, params: dict[str, Any], warehouse_conn_id: str, run_id: str | None
) -> dict[str, Any]:
    from salesops.ingest.extract import extract_batch
    from salesops.sources.base import SourceError
    from salesops.warehouse.hook import WarehouseHook

    wh = WarehouseHook(warehouse_conn_id).warehouse
    try:
        batch = extract_batch(
            build_source(params),
            object_name,
            wh,
            full_refresh=bool(params.get("full_refresh")),
            run_id=run_id,
        )
    except SourceError as exc:
        if getattr(exc, "transient", False) or (params.get("source") or "demo") != "csv":
            raise
        # A bad export file (encoding, oversized cell, empty file, late row) fails the same way on
        # every try: fail this object now, without retries; the other objects still load.
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"{object_name}: {exc}") from exc
    return batch.to_dict()


def load(batch: dict[str, Any], warehouse_conn_id: str) -> dict[str, Any]:
    from salesops.ingest.batches import Batch, mark_failed
    from salesops.ingest.load import load_batch
    from salesops.warehouse.hook import WarehouseHook

    wh = WarehouseHook(warehouse_conn_id).warehouse
    b = Batch.from_dict(batch)
    try:
        return load_batch(wh, b).to_dict()
    except Exception as exc:
        mark_failed(wh, b.batch_id, f"{type(exc).__name__}: {exc}")
        raise


def check_all_loaded(planned: list[str], results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's last step: fail naming every planned object that did not load.

    ``load`` and ``publish`` run whatever their upstreams did (trigger rule all_done), so one
    object's bad extract or load never blocks the others; this check then fails the run at the end.

    Raises:
        RuntimeError: some planned objects have no load result (their extract or load failed).
    """
    loaded = {r.get("object") for r in results}
    missing = [o for o in planned if o not in loaded]
    if missing:
        raise RuntimeError(
            f"{len(missing)} of {len(planned)} objects did not load: {', '.join(missing)} "
            f"(see their extract/load task logs); loaded: {', '.join(sorted(o for o in loaded if o)) or 'none'}"
        )
    return {"planned": len(planned), "loaded": len(loaded)}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One line per object for the log, and totals for the Asset event's extra."""
    totals = {
        k: 0
        for k in (
            "rows_read",
            "rows_inserted",
            "rows_updated",
            "rows_deleted",
            "rows_rejected",
            "rows_duplicates",
            "rows_warned",
        )
    }
    for r in results:
        for k in totals:
            totals[k] += int(r.get(k) or 0)
        log.info(
            "%-28s read=%-7d inserted=%-7d updated=%-7d deleted=%-5d rejected=%-4d duplicates=%-4d "
            "warned=%-4d drift+%s -%s",
            r["object"],
            r["rows_read"],
            r["rows_inserted"],
            r["rows_updated"],
            r["rows_deleted"],
            r["rows_rejected"],
            int(r.get("rows_duplicates") or 0),
            int(r.get("rows_warned") or 0),
            r.get("schema_added") or "",
            r.get("schema_missing") or "",
        )
    return {"objects": len(results), **totals}


def changed_anything(summary: dict[str, Any]) -> bool:
    """Whether a load changed the warehouse: any row inserted, updated, deleted or quarantined.

    A load that read nothing new (or re-read only rows it already had) changes nothing downstream,
    so ``publish`` emits no Asset events for it and the quality/KPI/pack DAGs stay quiet.
    """
    return any(
        int(summary.get(k) or 0) > 0
        for k in ("rows_inserted", "rows_updated", "rows_deleted", "rows_rejected")
    )
