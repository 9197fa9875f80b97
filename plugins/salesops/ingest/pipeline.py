"""Extract -> land -> load, object by object (tests, the CLI and benchmarks; the DAG maps the
same two steps as separate tasks: :mod:`salesops.ingest.tasks`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from salesops.ingest.batches import LoadResult, mark_failed
from salesops.ingest.extract import extract_batch
from salesops.ingest.load import load_batch
from salesops.warehouse.core import Warehouse

if TYPE_CHECKING:
    from salesops.sources.base import CrmSource


def extract_and_load(
    source: CrmSource,
    object_names: Iterable[str],
    wh: Warehouse,
    *,
    full_refresh: bool = False,
    run_id: str | None = None,
) -> list[LoadResult]:
    """Convenience for tests, the CLI and benchmarks: extract then load each object in turn."""
    results = []
    for name in object_names:
        batch = extract_batch(source, name, wh, full_refresh=full_refresh, run_id=run_id)
        try:
            results.append(load_batch(wh, batch))
        except Exception as exc:
            mark_failed(wh, batch.batch_id, f"{type(exc).__name__}: {exc}")
            raise
    return results
