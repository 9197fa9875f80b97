"""Watermarks and read checkpoints: where the next read of an object starts.

The watermark (``ops.load_watermark``, moved by the load's transaction) is the source clock up to
which an object is loaded; a checkpoint (``checkpoint.json`` in a ``.partial`` landing folder) is
where an interrupted, resumable read (Salesforce Bulk API locator) continues.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesops.config import ObjectSpec
from salesops.ingest.batches import utc
from salesops.warehouse.core import Warehouse

if TYPE_CHECKING:
    from salesops.sources.base import CrmSource


def get_watermark(wh: Warehouse, obj: ObjectSpec, source: str) -> datetime | None:
    if not wh.table_exists("ops.load_watermark"):
        return None
    value = wh.scalar(
        "select watermark from ops.load_watermark where object = :o and source = :s",
        {"o": obj.name, "s": source},
    )
    return None if value is None else utc(value)


def find_checkpoint(
    root: Path, obj_name: str, source: CrmSource, full_refresh: bool
) -> dict[str, Any] | None:
    """The checkpoint of an interrupted, resumable read of this object by this source, if any."""
    if not hasattr(source, "resume"):
        return None
    for path in sorted((root / obj_name).glob("*.partial/checkpoint.json")):
        state = json.loads(path.read_text())
        if state.get("source") != source.name or (full_refresh and state["since"] is not None):
            continue
        return state
    return None


def save_checkpoint(
    tmp_dir: Path,
    source: CrmSource,
    batch_id: str,
    since: datetime | None,
    until: datetime,
    part_columns: list[list[str]],
    seen_columns: dict[str, None],
    rows: int,
) -> None:
    """After each landed page: where the source would continue (only sources that can resume)."""
    state = source.resume_state() if hasattr(source, "resume_state") else None
    if not state:
        return
    payload = {
        "source": source.name,
        "batch_id": batch_id,
        "since": None if since is None else utc(since).isoformat(),
        "until": utc(until).isoformat(),
        "parts": len(part_columns),
        "part_columns": part_columns,
        "seen_columns": list(seen_columns),
        "rows": rows,
        "source_state": state,
    }
    tmp = tmp_dir / "checkpoint.json.tmp"
    tmp.write_text(json.dumps(payload))
    tmp.replace(tmp_dir / "checkpoint.json")
