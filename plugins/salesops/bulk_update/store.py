"""Reads and writes of the ops.bulk_update_* tables (plans, rows, approvals, change-log ledger)."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from salesops import sql
from salesops.bulk_update.model import iso as iso  # store.iso: the stored timestamp text
from salesops.warehouse import Warehouse

_clock_lock = threading.Lock()
_last_ts: datetime | None = None


def utcnow() -> datetime:
    """Wall clock (UTC, naive for the warehouse), strictly increasing within this process.

    The change log orders events by ``logged_at``; two events of one change written in the same
    microsecond would otherwise tie.
    """
    global _last_ts
    with _clock_lock:
        now = datetime.now(UTC).replace(tzinfo=None)
        if _last_ts is not None and now <= _last_ts:
            now = _last_ts + timedelta(microseconds=1)
        _last_ts = now
        return now


def naive_utc(ts: datetime | None) -> datetime | None:
    if ts is None or ts.tzinfo is None:
        return ts
    return ts.astimezone(UTC).replace(tzinfo=None)


def ensure_tables(wh: Warehouse) -> None:
    """Create the ops.bulk_update_* tables if missing (idempotent)."""
    wh.run_file("bulk_update/create_tables.sql")


def _render(name: str, **ctx: Any) -> str:
    return sql.render(f"bulk_update/{name}", **ctx)


def execute_many(
    wh: Warehouse, name: str, rows: Sequence[Mapping[str, Any]], conn: sa.Connection | None = None
) -> None:
    """Run the statement in include/sql/bulk_update/<name> once per row, in one transaction."""
    if not rows:
        return
    stmt = sa.text(_render(name, dialect=wh.dialect))
    if conn is not None:
        conn.execute(stmt, [dict(r) for r in rows])
        return
    with wh.connect() as c:
        c.execute(stmt, [dict(r) for r in rows])


def query(
    wh: Warehouse, name: str, params: Mapping[str, Any] | None = None, **jinja: Any
) -> list[dict[str, Any]]:
    return wh.query(_render(name, dialect=wh.dialect, **jinja), params)


def insert_plan(wh: Warehouse, header: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """Store a plan's header and rows in one transaction (a plan is never half-written)."""
    with wh.connect() as conn:
        conn.execute(sa.text(_render("insert_plan.sql", dialect=wh.dialect)), dict(header))
        for chunk in _chunks(rows, 500):
            conn.execute(
                sa.text(_render("insert_plan_row.sql", dialect=wh.dialect)), [dict(r) for r in chunk]
            )


def set_plan_status(wh: Warehouse, plan_id: str, status: str) -> None:
    wh.execute(
        _render("update_plan_status.sql", dialect=wh.dialect),
        {"plan_id": plan_id, "status": status, "at": iso(utcnow())},
    )


def insert_approval(wh: Warehouse, row: Mapping[str, Any]) -> str:
    """Append one approval/decision record; returns its id."""
    approval_id = row.get("approval_id") or uuid.uuid4().hex
    data = {
        "approval_id": approval_id,
        "signature": None,
        "run_id": None,
        "comment": None,
        "recorded_at": iso(utcnow()),
        **{k: v for k, v in row.items() if k != "approval_id"},
    }
    data["responded_at"] = (
        iso(data["responded_at"]) if isinstance(data["responded_at"], datetime) else data["responded_at"]
    )
    execute_many(wh, "insert_approval.sql", [data])
    return approval_id


def log_events(wh: Warehouse, events: Iterable[Mapping[str, Any]]) -> None:
    """Append change-log events (one committed transaction per call: the ledger survives a crash)."""
    rows = []
    for ev in events:
        row = {
            "event_id": uuid.uuid4().hex,
            "run_id": None,
            "approver": None,
            "attempt": None,
            "batch_no": None,
            "applied_at": None,
            "error": None,
            **ev,
        }
        row["logged_at"] = iso(utcnow())
        row["applied_at"] = (
            iso(row["applied_at"]) if isinstance(row["applied_at"], datetime) else row["applied_at"]
        )
        rows.append(row)
    execute_many(wh, "insert_change_event.sql", rows)


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    it = iter(seq)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def latest_change_states(wh: Warehouse, plan_id: str) -> dict[str, dict[str, Any]]:
    """change_id -> latest change-log event of the plan."""
    ensure_tables(wh)
    return {r["change_id"]: r for r in query(wh, "select_change_log.sql", {"plan_id": plan_id})}
