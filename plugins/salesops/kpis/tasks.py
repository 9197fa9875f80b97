"""Task bodies of the kpi_transforms DAG, kept out of the DAG file so they are testable.

Each takes plain values (Airflow params, the warehouse connection id) and returns plain values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)


def _warehouse(warehouse_conn_id: str) -> Any:
    from salesops.warehouse.hook import WarehouseHook

    return WarehouseHook(warehouse_conn_id).warehouse


@contextmanager
def _held(warehouse_conn_id: str) -> Iterator[Any]:
    """The warehouse, its DuckDB instance held open for the task (as ``runner.build`` does): the
    task's dozens of statements share it instead of re-opening the file and checkpointing it
    each time (on the 1 M-opportunity org that was ≈ 2 CPU-seconds in ``finish`` alone)."""
    from salesops.warehouse.duckdb_session import held

    wh = _warehouse(warehouse_conn_id)
    with held(wh):
        yield wh


def prepare(params: dict[str, Any], warehouse_conn_id: str) -> dict[str, Any]:
    """Resolve the as-of date and write the seed tables; returns what the run will build."""
    from salesops.kpis.runner import load_seeds

    with _held(warehouse_conn_id) as wh:
        as_of, requests = load_seeds(wh, params.get("as_of") or None, params.get("backfill_from") or None)
    out = {
        "as_of_date": as_of.as_of_date.isoformat(),
        "as_of_source": as_of.source,
        "snapshot_dates": [r["snapshot_date"].isoformat() for r in requests],
    }
    log.info(
        "KPI build as of %s (%s); snapshots %s", out["as_of_date"], out["as_of_source"], out["snapshot_dates"]
    )
    return out


def build_models(
    names: list[str] | tuple[str, ...], warehouse_conn_id: str, parallelism: int = 1
) -> dict[str, Any]:
    """Build the models of one build task (``models.build_groups``) on one held DuckDB instance.

    Returns:
        Per model its row count and seconds (each model's Asset event's extra).
    """
    from salesops.kpis.models import get_model
    from salesops.kpis.runner import run_models

    with _held(warehouse_conn_id) as wh:
        seconds = run_models(wh, names, parallelism=parallelism)
        out = {}
        for name in names:
            rows = wh.scalar(f"select count(*) from {get_model(name).table}")
            out[name] = {"model": name, "rows": int(rows), "seconds": seconds[name]}
            log.info("marts.%s: %d rows in %.2f s", name, rows, seconds[name])
    return out


def finish(warehouse_conn_id: str) -> dict[str, Any]:
    """Check every model's grain and every registry metric's column; write the HTML glossary.

    Raises:
        RuntimeError: listing every problem found (a broken mart must not be announced as ready).
    """
    from salesops.kpis.glossary import render_html
    from salesops.kpis.registry import validate_against_warehouse
    from salesops.kpis.runner import mark_ready, validate_build
    from salesops.paths import output_dir

    with _held(warehouse_conn_id) as wh:
        problems = validate_build(wh) + validate_against_warehouse(wh)
        if problems:
            raise RuntimeError("KPI marts failed validation:\n- " + "\n- ".join(problems))
        mark_ready(wh)
        as_of = wh.scalar("select as_of_date from marts.kpi_context")
    path = output_dir() / "glossary.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(), encoding="utf-8")
    return {"as_of_date": str(as_of), "glossary": str(path)}
