"""Batches: one extracted window of one object, its id, its load counts, and its audit status.

A batch id is deterministic per (source, object, window), so re-extracting the same window
replaces the batch instead of duplicating it. ``ops.load_audit`` holds one row per batch
(``landed`` -> ``loaded`` or ``failed``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from salesops.warehouse.core import Warehouse


@dataclass
class Batch:
    """One extracted window of one object, as landed. JSON-serialisable (it travels by XCom)."""

    batch_id: str
    object: str
    source: str
    since: str | None
    until: str
    landing_path: str
    rows_read: int
    deletes_read: int
    columns: list[str] = field(default_factory=list)
    schema_added: list[str] = field(default_factory=list)
    schema_missing: list[str] = field(default_factory=list)
    # the load fails when more than this share of the batch's rows is quarantined (None: default)
    max_quarantine_share: float | None = None
    # older rows of an id the source itself dropped before landing (CSV ``duplicates: latest``)
    duplicates_dropped: int = 0
    # API field -> the source's own label for it (CSV column map headers); ops.field_label
    field_labels: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Batch:
        return cls(**data)


@dataclass
class LoadResult:
    batch_id: str
    object: str
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_deleted: int
    rows_rejected: int
    schema_added: list[str]
    schema_missing: list[str]
    # older versions of an id that appeared again in the batch (the latest version won), plus the
    # ones the source dropped before landing: read = inserted + updated + unchanged + rejected +
    # (rows_duplicates - batch.duplicates_dropped)
    rows_duplicates: int = 0
    # rows loaded with an optional field emptied: its value did not parse and the manifest marks
    # the field on_bad_value: warn (the value is in ops.quarantine with severity 'warning')
    rows_warned: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def iso(ts: datetime | None) -> str | None:
    return None if ts is None else utc(ts).replace(tzinfo=None).isoformat(sep=" ")


def batch_id_for(source: str, obj: str, since: datetime | None, until: datetime) -> str:
    """Deterministic: re-extracting the same window gives the same id (and replaces the batch)."""
    digest = hashlib.sha256(f"{source}|{obj}|{iso(since)}|{iso(until)}".encode()).hexdigest()[:10]
    return f"{obj}__{utc(until):%Y%m%dT%H%M%S}__{digest}"


def mark_failed(wh: Warehouse, batch_id: str, error: str) -> None:
    """Record a failed load in the audit table (outside the rolled-back transaction)."""
    wh.execute(
        "update ops.load_audit set status = 'failed', error = :e, finished_at = cast(:t as timestamp) "
        "where batch_id = :b",
        {"e": error[:2000], "t": iso(datetime.now(UTC)), "b": batch_id},
    )
