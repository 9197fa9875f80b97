"""Incremental extract-load: source -> landing (Parquet) -> raw -> staging.

Write, audit, publish:

1. :func:`extract_batch` reads the records changed since the object's watermark up to the
   source's clock, lands them as Parquet (every value as text, as extracted) plus the deletes,
   and registers the batch in ``ops.load_audit`` (status ``landed``).
2. :func:`load_batch`, in ONE transaction: replaces the batch in raw, types it, quarantines rows
   whose values do not parse (record id, field, value, reason), merges the rest into staging
   (latest version per key), applies deletes, records counts and moves the watermark. A crash
   anywhere leaves the warehouse exactly as before, and re-running a batch is a no-op for staging.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from salesops import paths
from salesops.config import ObjectSpec, get_object
from salesops.warehouse.core import Warehouse, WarehouseError, check_identifier
from salesops.warehouse.schema import ensure_object_tables

if TYPE_CHECKING:
    from salesops.sources.base import CrmSource, Page

log = logging.getLogger(__name__)


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else _utc(ts).replace(tzinfo=None).isoformat(sep=" ")


def batch_id_for(source: str, obj: str, since: datetime | None, until: datetime) -> str:
    """Deterministic: re-extracting the same window gives the same id (and replaces the batch)."""
    digest = hashlib.sha256(f"{source}|{obj}|{_iso(since)}|{_iso(until)}".encode()).hexdigest()[:10]
    return f"{obj}__{_utc(until):%Y%m%dT%H%M%S}__{digest}"


def _absent_from_full_export(
    source: CrmSource, obj: ObjectSpec, wh: Warehouse, until: datetime, known: set[str]
) -> list[Any]:
    """Ids staging holds that a full export (``export: full`` in a CSV column map) no longer lists:
    the record was deleted in the CRM. Sources without full exports answer None (nothing)."""
    full_ids = getattr(source, "full_export_ids", None)
    ids = full_ids(obj.api_name) if callable(full_ids) else None
    if ids is None:
        return []
    from salesops.sources.base import DeletedRecord

    held = wh.query_file("load/staging_ids.sql", table=obj.staging_table, key_column=obj.key_column)
    gone = sorted(set(held["id"].astype(str)) - set(ids) - known)
    if gone:
        log.info("%s: %d ids absent from the full export are deletes: %s", obj.name, len(gone), gone[:10])
    return [DeletedRecord(i, until) for i in gone]


def get_watermark(wh: Warehouse, obj: ObjectSpec, source: str) -> datetime | None:
    if not wh.table_exists("ops.load_watermark"):
        return None
    value = wh.scalar(
        "select watermark from ops.load_watermark where object = :o and source = :s",
        {"o": obj.name, "s": source},
    )
    return None if value is None else _utc(value)


def _to_text_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def page_to_text_table(page: Page) -> pa.Table:
    """Any page (records or Arrow) -> an Arrow table whose columns are all strings."""
    if isinstance(page, pa.Table):
        table = page
    else:
        columns: dict[str, None] = {}
        for rec in page:
            columns.update(dict.fromkeys(rec))
        table = pa.table({c: [_to_text_value(r.get(c)) for r in page] for c in columns})
    casted = []
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_boolean(col.type):
            col = pa.array(
                [None if v is None else ("true" if v else "false") for v in col.to_pylist()], pa.string()
            )
        elif not pa.types.is_string(col.type):
            col = col.cast(pa.string())
        casted.append(col)
    return pa.table(casted, names=table.column_names)


def _align(table: pa.Table, columns: list[str]) -> pa.Table:
    """Same columns in the same order on every page (missing ones as null text)."""
    arrays = [
        table.column(c) if c in table.column_names else pa.nulls(table.num_rows, pa.string()) for c in columns
    ]
    return pa.table(arrays, names=columns)


def extract_batch(
    source: CrmSource,
    object_name: str,
    wh: Warehouse,
    *,
    since: datetime | None = None,
    full_refresh: bool = False,
    run_id: str | None = None,
    landing_root: Path | None = None,
) -> Batch:
    """Extract one object's changes since its watermark and land them as Parquet.

    Args:
        source: the source system (demo, CSV export, Salesforce, HubSpot, Marketo).
        object_name: manifest name, e.g. ``"opportunity"``.
        wh: the warehouse (holds the watermark and the audit table).
        since: explicit lower bound (backfill); default is the stored watermark.
        full_refresh: ignore the watermark and read everything.
        run_id: the Airflow run id, recorded in the audit row.
        landing_root: where batches land (default ``data/landing``).

    Returns:
        The landed :class:`Batch`.
    """
    obj = get_object(object_name)
    ensure_object_tables(wh, [obj])
    started = datetime.now(UTC)
    if since is None and not full_refresh:
        since = get_watermark(wh, obj, source.name)
    # Sources whose clock is per object (CSV exports: each object's own files) say so.
    per_object = getattr(source, "server_time_for", None)
    until = _utc(per_object(obj.api_name) if per_object else source.server_time())
    if since is not None and since >= until:
        log.info("%s: source clock %s is not past the watermark %s; nothing to read", obj.name, until, since)
    resumed = _find_checkpoint(landing_root or paths.landing_dir(), obj.name, source, full_refresh)
    if resumed is not None:  # a crashed read that can continue where it stopped (Bulk locator)
        since = None if resumed["since"] is None else _utc(datetime.fromisoformat(resumed["since"]))
        until = _utc(datetime.fromisoformat(resumed["until"]))
        log.info(
            "%s: resuming batch %s after %d landed pages", obj.name, resumed["batch_id"], resumed["parts"]
        )
    batch_id = resumed["batch_id"] if resumed else batch_id_for(source.name, obj.name, since, until)
    batch_dir = (landing_root or paths.landing_dir()) / obj.name / batch_id
    if batch_dir.exists():  # an earlier, interrupted attempt of the same window
        shutil.rmtree(batch_dir)
    tmp_dir = batch_dir.with_name(batch_id + ".partial")
    if tmp_dir.exists() and resumed is None:
        shutil.rmtree(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    calls_before = int(getattr(source, "api_calls", 0))

    manifest_fields = obj.api_fields
    # Each page is written as soon as it arrives (memory stays bounded by one page); pages whose
    # columns differ from the final column list (schema drift mid-read) are rewritten at the end.
    part_columns: list[list[str]] = resumed["part_columns"] if resumed else []
    seen_columns: dict[str, None] = dict.fromkeys(resumed["seen_columns"]) if resumed else {}
    rows = int(resumed["rows"]) if resumed else 0
    notes: list[tuple[int, str, str]] = []  # (row number, field, quarantine reason) from the source
    if resumed:
        source.resume(resumed["source_state"])  # type: ignore[attr-defined]
    if since is None or since < until:
        for page in source.read_changes(obj.api_name, manifest_fields, obj.cursor, since, until):
            notes += _pop_notes(page, rows)
            table = page_to_text_table(page)
            if table.num_rows == 0:
                continue
            seen_columns.update(dict.fromkeys(table.column_names))
            cols = [c for c in manifest_fields if c in table.column_names]
            cols += [c for c in table.column_names if c not in manifest_fields]
            aligned = _align(table, cols)
            numbers = pa.array(range(rows + 1, rows + aligned.num_rows + 1), pa.int64())
            pq.write_table(
                aligned.append_column("_row_number", numbers),
                tmp_dir / f"part-{len(part_columns):05d}.parquet",
            )
            part_columns.append(cols)
            rows += aligned.num_rows
            _save_checkpoint(tmp_dir, source, batch_id, since, until, part_columns, seen_columns, rows)
    extra = [c for c in seen_columns if c not in manifest_fields]
    missing = [c for c in manifest_fields if c not in seen_columns] if rows else []
    columns = [c for c in manifest_fields if c in seen_columns or not rows] + extra
    for i, cols in enumerate(part_columns):
        if cols != columns:
            path = tmp_dir / f"part-{i:05d}.parquet"
            part = pq.read_table(path)
            numbers = part.column("_row_number")
            aligned = _align(part.drop_columns(["_row_number"]), columns).append_column(
                "_row_number", numbers
            )
            pq.write_table(aligned, path)

    deleted = (
        source.read_deleted(obj.api_name, since, until)
        if obj.deletes and (since is None or since < until)
        else []
    )
    if obj.deletes and (since is None or since < until):
        deleted += _absent_from_full_export(source, obj, wh, until, {d.id for d in deleted})
    pq.write_table(
        pa.table(
            {
                "id": pa.array([d.id for d in deleted], pa.string()),
                "deleted_at": pa.array(
                    [_utc(d.deleted_at).replace(tzinfo=None) for d in deleted], pa.timestamp("us")
                ),
            }
        ),
        tmp_dir / "deleted.parquet",
    )
    if notes:
        pq.write_table(
            pa.table(
                {
                    "note_row": pa.array([n[0] for n in notes], pa.int64()),
                    "note_field": pa.array([n[1] for n in notes], pa.string()),
                    "note_reason": pa.array([n[2] for n in notes], pa.string()),
                }
            ),
            tmp_dir / "notes.parquet",
        )
    reconciled = _write_live_ids(source, obj, wh, since, until, tmp_dir)
    formulas = _write_formula_values(source, obj, wh, since, until, tmp_dir)
    (tmp_dir / "checkpoint.json").unlink(missing_ok=True)
    tmp_dir.rename(batch_dir)  # the batch appears whole or not at all
    api_calls = int(getattr(source, "api_calls", 0)) - calls_before if hasattr(source, "api_calls") else None
    warning = _zero_rows_warning(wh, obj, source.name, rows)

    if extra:
        log.warning("%s: schema drift: the source sent fields not in the manifest: %s", obj.name, extra)
    if missing:
        log.warning("%s: schema drift: the source did not send manifest fields: %s", obj.name, missing)
    batch = Batch(
        batch_id=batch_id,
        object=obj.name,
        source=source.name,
        since=_iso(since),
        until=_iso(until),  # type: ignore[arg-type]
        landing_path=str(batch_dir),
        rows_read=rows,
        deletes_read=len(deleted),
        columns=columns,
        schema_added=extra,
        schema_missing=missing,
        max_quarantine_share=getattr(source, "max_quarantine_share", None),
        duplicates_dropped=_source_duplicates(source, obj),
    )
    wh.run_file(
        "load/register_batch.sql",
        {
            "batch_id": batch_id,
            "object": obj.name,
            "source": source.name,
            "since": batch.since,
            "until": batch.until,
            "rows_read": rows,
            "schema_added": ",".join(extra) or None,
            "schema_missing": ",".join(missing) or None,
            "started_at": _iso(started),
            "run_id": run_id,
        },
    )
    wh.run_file(
        "load/register_extract_details.sql",
        {
            "batch_id": batch_id,
            "api_calls": api_calls,
            "extract_method": (getattr(source, "methods", {}) or {}).get(obj.api_name),
            "ids_reconciled": reconciled,
            "formulas_refreshed": formulas,
            "warning": warning,
        },
    )
    log.info(
        "%s: landed %d rows and %d deletes as batch %s (since %s, until %s)",
        obj.name,
        rows,
        len(deleted),
        batch_id,
        batch.since,
        batch.until,
    )
    return batch


def _pop_notes(page: Page, rows_before: int) -> list[tuple[int, str, str]]:
    """Take the source's notes (``NOTES_KEY``) out of a page's records: (row number, field, why)."""
    from salesops.sources.base import NOTES_KEY

    if isinstance(page, pa.Table):
        return []
    out = []
    for i, rec in enumerate(page, start=rows_before + 1):
        for fld, why in (rec.pop(NOTES_KEY, None) or {}).items():
            out.append((i, str(fld), str(why)))
    return out


def _source_duplicates(source: CrmSource, obj: ObjectSpec) -> int:
    """Rows the source dropped as older duplicates of an id (CSV ``duplicates: latest``)."""
    dropped = getattr(source, "duplicates_dropped", None)
    return int((dropped or {}).get(obj.api_name, 0)) if isinstance(dropped, dict) else 0


# A read of zero records where the previous read of the same kind (first/full vs incremental)
# had at least this many is reported as a warning with both counts (a query that timed out
# upstream and "succeeded" looks exactly like this).
ZERO_ROWS_WARNING_MIN = 1000


def _find_checkpoint(
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


def _save_checkpoint(
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
        "since": None if since is None else _utc(since).isoformat(),
        "until": _utc(until).isoformat(),
        "parts": len(part_columns),
        "part_columns": part_columns,
        "seen_columns": list(seen_columns),
        "rows": rows,
        "source_state": state,
    }
    tmp = tmp_dir / "checkpoint.json.tmp"
    tmp.write_text(json.dumps(payload))
    tmp.replace(tmp_dir / "checkpoint.json")


def _write_live_ids(
    source: CrmSource, obj: ObjectSpec, wh: Warehouse, since: datetime | None, until: datetime, tmp_dir: Path
) -> bool:
    """Id reconciliation: land every live id of the object when it is due.

    Due when the window starts more than 15 days back (getDeleted cannot cover it) or the last
    reconciliation of the object is older than the source's ``reconcile_every_days``. The load
    then removes staged records whose id the org no longer has.
    """
    if not obj.deletes or since is None or not hasattr(source, "list_ids"):
        return False
    paused = since < until - timedelta(days=15)
    every = getattr(source, "reconcile_every_days", None)
    due = paused
    if not due and every:
        last = wh.scalar(
            "select max(until) from ops.load_audit where object = :o and source = :s "
            "and status = 'loaded' and ids_reconciled",
            {"o": obj.name, "s": source.name},
        )
        due = last is None or _utc(last) < until - timedelta(days=float(every))
    if not due:
        return False
    log.info("%s: id reconciliation (%s)", obj.name, "paused > 15 days" if paused else f"every {every} days")
    schema = pa.schema([("id", pa.string())])
    with pq.ParquetWriter(tmp_dir / "live_ids.parquet", schema) as writer:
        for ids in source.list_ids(obj.api_name):  # type: ignore[attr-defined]
            writer.write_table(pa.table({"id": pa.array(ids, pa.string())}, schema=schema))
    return True


def _write_formula_values(
    source: CrmSource, obj: ObjectSpec, wh: Warehouse, since: datetime | None, until: datetime, tmp_dir: Path
) -> bool:
    """Formula refresh: land every record's formula values when ``formula_refresh_days`` passed.

    A full read (``since`` None) already has current formula values and counts as a refresh.
    """
    every = getattr(source, "formula_refresh_days", None)
    if since is None or not every or not hasattr(source, "read_formula_values"):
        return False
    last = wh.scalar(
        "select max(until) from ops.load_audit where object = :o and source = :s and status = 'loaded' "
        "and (formulas_refreshed or since is null)",
        {"o": obj.name, "s": source.name},
    )
    if last is not None and _utc(last) >= until - timedelta(days=float(every)):
        return False
    wrote = False
    for i, page in enumerate(source.read_formula_values(obj.api_name, obj.api_fields, obj.cursor, until)):  # type: ignore[attr-defined]
        table = page_to_text_table(page)
        if table.num_rows:
            pq.write_table(table, tmp_dir / f"formulas-{i:05d}.parquet")
            wrote = True
    if wrote:
        log.info("%s: formula fields re-read for every record (cadence %s days)", obj.name, every)
    return wrote


def _zero_rows_warning(wh: Warehouse, obj: ObjectSpec, source: str, rows: int) -> str | None:
    if rows:
        return None
    previous = wh.scalar(
        "select rows_read from ops.load_audit where object = :o and source = :s and status = 'loaded' "
        "order by until desc limit 1",
        {"o": obj.name, "s": source},
    )
    if previous is None or int(previous) < ZERO_ROWS_WARNING_MIN:
        return None
    message = (
        f"read 0 records where the previous sync read {int(previous)}: check the source "
        "(a timed-out or filtered query looks like this)"
    )
    log.warning("%s: %s", obj.name, message)
    return message


def _add_raw_columns(conn: Any, obj: ObjectSpec, columns: Iterable[str], wh: Warehouse) -> None:
    """Schema drift: a field the manifest doesn't know is kept in raw as an extra text column."""
    import sqlalchemy as sa

    from salesops import sql as sqlfiles

    dialect = wh.dialect
    schema, table = wh.physical(obj.raw_table).split(".")  # a catalog lookup: the warehouse's name
    existing = {
        r[0]
        for r in conn.execute(
            sa.text(sqlfiles.render("load/raw_columns.sql", dialect=dialect)), {"s": schema, "t": table}
        )
    }
    for col in columns:
        if col not in existing:
            if '"' in col:
                raise WarehouseError(f"{obj.name}: refusing a source field name with a quote: {col!r}")
            conn.execute(sa.text(f'alter table {obj.raw_table} add column "{col}" varchar'))


# Statements allowed in the load's transaction. On Snowflake any DDL (even CREATE TEMPORARY
# TABLE) commits the open transaction, so everything that creates objects runs before it; the
# check keeps it that way on both engines (fakesnow, like DuckDB, would not notice).
_DML = re.compile(r"^\s*(insert|update|delete|merge|select|with)\b", re.IGNORECASE)


def _landing_files(batch: Batch, obj: ObjectSpec, parts: list[Path]) -> dict[str, dict[str, Any]]:
    """The landed files of a batch by kind, with the columns each kind has (all text but a few)."""
    batch_dir = Path(batch.landing_path)
    kinds: dict[str, dict[str, Any]] = {
        "rows": {
            "files": parts,
            "columns": [(c, "varchar") for c in batch.columns] + [("_row_number", "bigint")],
        },
        "deleted": {
            "files": [p for p in [batch_dir / "deleted.parquet"] if p.exists()],
            "columns": [("id", "varchar"), ("deleted_at", "timestamp_ntz")],
        },
        "live_ids": {
            "files": [p for p in [batch_dir / "live_ids.parquet"] if p.exists()],
            "columns": [("id", "varchar")],
        },
        "notes": {
            "files": [p for p in [batch_dir / "notes.parquet"] if p.exists()],
            "columns": [("note_row", "bigint"), ("note_field", "varchar"), ("note_reason", "varchar")],
        },
    }
    formulas = sorted(batch_dir.glob("formulas-*.parquet"))
    names = pq.read_schema(formulas[0]).names if formulas else []
    kinds["formulas"] = {"files": formulas, "columns": [(c, "varchar") for c in names]}
    return kinds


def _stage_landing(
    conn: Any, wh: Warehouse, obj: ObjectSpec, batch: Batch, parts: list[Path]
) -> dict[str, Any]:
    """Snowflake: PUT the landing Parquet files to a temporary stage and COPY them into landing
    tables, one per kind of file. Returns the relations (table names) by kind.

    The landing tables are ordinary (transient) tables in the raw schema, one set per object
    (loads of one object never run concurrently: the DAG maps one load per object); COPY INTO
    does not accept a temporary target everywhere (fakesnow), and they are dropped after the load.
    """
    import sqlalchemy as sa

    from salesops import sql as sqlfiles
    from salesops.warehouse.core import split_statements

    kinds = _landing_files(batch, obj, parts)
    landings = []
    for kind, spec in kinds.items():
        names = [n for n, _ in spec["columns"]]
        if len({n.upper() for n in names}) != len(names):
            raise WarehouseError(
                f"batch {batch.batch_id}: field names that differ only in case cannot be matched by name "
                f"when copying into Snowflake: {names}"
            )
        if any('"' in n for n in names):
            raise WarehouseError(f"batch {batch.batch_id}: a field name with a quote: {names}")
        if kind == "formulas" and not spec["files"]:
            continue
        table = check_identifier(f"raw._land__{obj.name}__{kind}")
        landings.append({"kind": kind, "table": table, "columns": spec["columns"], "files": spec["files"]})
    ctx = {"landings": landings, "stage": check_identifier(f"raw._land__{obj.name}__stage")}
    for stmt in split_statements(sqlfiles.render("load/snowflake_stage.sql", dialect=wh.dialect, **ctx)):
        conn.execute(sa.text(stmt))
    for landing in landings:
        for path in landing["files"]:
            if "'" in str(path):
                raise WarehouseError(f"landing path with a quote cannot be PUT: {path}")
            # PUT takes one file here (fakesnow does not expand wildcards); each kind in its own path.
            conn.execute(
                sa.text(
                    f"put 'file://{path.resolve().as_posix()}' @{ctx['stage']}/{landing['kind']} "
                    "auto_compress = false overwrite = true"
                )
            )
    for stmt in split_statements(sqlfiles.render("load/snowflake_copy.sql", dialect=wh.dialect, **ctx)):
        conn.execute(sa.text(stmt))
    # Only kinds that landed files: an empty live-ids table would mean "every record deleted".
    return {
        **ctx,
        "relations": {landing["kind"]: landing["table"] for landing in landings if landing["files"]},
    }


def _landing_relations(
    conn: Any,
    wh: Warehouse,
    obj: ObjectSpec,
    batch: Batch,
    parts: list[Path],
    kinds: dict[str, dict[str, Any]],
) -> tuple[dict[str, str], dict[str, Any]]:
    """What the prepare SQL reads each kind of landed file from: ``read_parquet`` on DuckDB, the
    landing tables COPY filled on Snowflake. Returns (relation by kind, Snowflake landing info)."""
    if wh.dialect == "snowflake":
        landing = _stage_landing(conn, wh, obj, batch, parts)
        return landing["relations"], landing
    rel = {
        kind: "read_parquet([{}])".format(
            ", ".join("'{}'".format(str(f).replace("'", "''")) for f in spec["files"])
        )
        for kind, spec in kinds.items()
        if spec["files"]
    }
    return rel, {}


def load_batch(wh: Warehouse, batch: Batch) -> LoadResult:
    """Load a landed batch into raw and staging in one transaction (see module docstring).

    Two phases on one connection: *prepare* builds session-temporary tables from the landing
    Parquet (on Snowflake, PUT to a stage and COPY INTO, then the same SQL as DuckDB) and
    computes the counts; *apply* is DML only, in ONE transaction: raw, quarantine, merge into
    staging, deletes, audit and watermark. On DuckDB both phases share the transaction.

    Args:
        wh: the warehouse.
        batch: what :func:`extract_batch` returned.

    Returns:
        Counts for the audit trail.
    """
    import sqlalchemy as sa

    from salesops import sql as sqlfiles
    from salesops.warehouse.core import split_statements

    obj = get_object(batch.object)
    check_identifier(obj.raw_table)
    check_identifier(obj.staging_table)
    ensure_object_tables(wh, [obj])
    batch_dir = Path(batch.landing_path)
    if not batch_dir.is_dir():
        raise WarehouseError(
            f"batch {batch.batch_id}: landing folder {batch_dir} is missing; re-run the extract"
        )
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", batch.batch_id):
        raise WarehouseError(f"unsafe batch id {batch.batch_id!r}")
    parts = sorted(batch_dir.glob("part-*.parquet"))
    deleted_file = batch_dir / "deleted.parquet"
    has_deletes = deleted_file.exists() and pq.read_metadata(deleted_file).num_rows > 0
    now = _iso(datetime.now(UTC))
    params = {
        "batch_id": batch.batch_id,
        "source": batch.source,
        "object": obj.name,
        "loaded_at": now,
        "quarantined_at": now,
        "rows_read": batch.rows_read,
        "until": batch.until,
    }
    present = set(batch.columns) & set(obj.api_fields)
    columns = batch.columns if parts else []
    raw_columns = list(obj.api_fields) + [c for c in columns if c not in obj.api_fields]
    dialect = wh.dialect
    snowflake = dialect == "snowflake"
    if dialect not in ("duckdb", "snowflake"):
        raise WarehouseError(f"load_batch has no bulk path for {dialect}")
    in_apply = False

    def run(conn: sa.Connection, relpath: str, **ctx: Any) -> None:
        script = sqlfiles.render(
            relpath, obj=obj, dialect=dialect, columns=columns, raw_columns=raw_columns, **ctx
        )
        _execute(conn, relpath, script, params, dml_only=in_apply)

    landing: dict[str, Any] = {}
    with wh.session() as conn:
        try:
            # --- prepare: temporary objects only -------------------------------------------
            if parts:
                _add_raw_columns(conn, obj, columns, wh)
            kinds = _landing_files(batch, obj, parts)
            rel, landing = _landing_relations(conn, wh, obj, batch, parts, kinds)
            empty = {
                "rows": '(select cast(null as bigint) as "_row_number" limit 0) as empty',
                "deleted": '(select cast(null as varchar) as "id", cast(null as timestamp) as "deleted_at" limit 0) as none',
                "notes": '(select cast(null as bigint) as "note_row", cast(null as varchar) as "note_field", '
                'cast(null as varchar) as "note_reason" limit 0) as no_notes',
            }
            run(
                conn,
                "load/land_batch.sql",
                relation=rel.get("rows") if parts else empty["rows"],
                deleted_relation=rel.get("deleted") or empty["deleted"],
                notes_relation=rel.get("notes") or empty["notes"],
            )
            run(conn, "load/type_batch.sql", present=present)
            staging_empty = conn.execute(sa.text(f"select count(*) from {obj.staging_table}")).scalar() == 0
            has_duplicates = bool(
                conn.execute(
                    sa.text(
                        f"select count(*) - count(distinct {obj.key_column}) from _typed where {obj.key_column} is not null"
                    )
                ).scalar()
            )
            flags = {"staging_empty": staging_empty, "has_duplicates": has_duplicates, "present": present}
            run(conn, "load/merge_prepare.sql", **flags)
            counts = dict(conn.execute(sa.text("select * from _merge_counts")).mappings().one())
            rows_deleted = 0
            if has_deletes:
                run(conn, "load/deletes_prepare.sql", **flags)
                rows_deleted = conn.execute(sa.text("select rows_deleted from _deleted_counts")).scalar()
            reconciled = 0
            if "live_ids" in rel:
                run(conn, "load/reconcile_prepare.sql", relation=rel["live_ids"])
                reconciled = int(conn.execute(sa.text("select count(*) from _reconciled")).scalar() or 0)
            names = [n for n, _ in kinds["formulas"]["columns"]]
            formula_fields = [
                f for f in obj.fields if f.api_name in names and f.api_name not in (obj.key, obj.cursor)
            ]
            if "formulas" in rel:
                run(conn, "load/formulas_prepare.sql", relation=rel["formulas"], names=names)
            if snowflake:
                conn.commit()  # nothing persistent changed; the transaction below holds DML only

            # --- apply: DML only, one transaction -------------------------------------------
            # (tests/support/faults.py crashes the load between these statements to prove it.)
            in_apply = True
            run(conn, "load/insert_raw.sql")
            run(conn, "load/quarantine.sql", present=present)
            run(conn, "load/merge_staging.sql", **flags)
            if has_deletes:
                run(conn, "load/apply_deletes.sql")
            if "live_ids" in rel:
                run(conn, "load/reconcile_deletes.sql")
                rows_deleted = int(rows_deleted or 0) + reconciled
                if reconciled:
                    log.warning(
                        "%s: id reconciliation: %d staged records no longer exist in the source; removed",
                        obj.name,
                        reconciled,
                    )
            if formula_fields:
                run(conn, "load/refresh_formulas.sql", relation="_formulas", formula_fields=formula_fields)
            rejected = conn.execute(
                sa.text("select count(distinct row_number) from ops.quarantine where batch_id = :b"),
                {"b": batch.batch_id},
            ).scalar()
            _guard_quarantine_share(conn, batch, int(rejected or 0), dialect)
            result = LoadResult(
                batch_id=batch.batch_id,
                object=obj.name,
                rows_read=batch.rows_read,
                rows_inserted=int(counts["rows_inserted"]),
                rows_updated=int(counts["rows_updated"]),
                rows_unchanged=int(counts["rows_unchanged"]),
                rows_deleted=int(rows_deleted or 0),
                rows_rejected=int(rejected),
                schema_added=batch.schema_added,
                schema_missing=batch.schema_missing,
                rows_duplicates=int(counts["rows_duplicates"]) + batch.duplicates_dropped,
            )
            params.update(
                {k: v for k, v in result.to_dict().items() if k.startswith("rows_")}
                | {
                    "schema_added": ",".join(batch.schema_added) or None,
                    "schema_missing": ",".join(batch.schema_missing) or None,
                    "finished_at": _iso(datetime.now(UTC)),
                    "until": batch.until,
                }
            )
            run(conn, "load/finish_batch.sql")
            conn.commit()
        finally:
            in_apply = False
            if conn.in_transaction():
                conn.rollback()
            if landing:
                for stmt in split_statements(
                    sqlfiles.render("load/snowflake_drop.sql", dialect=dialect, landings=landing["landings"])
                ):
                    conn.execute(sa.text(stmt))
                conn.commit()
    _log_result(obj, result)
    return result


def _log_result(obj: ObjectSpec, result: LoadResult) -> None:
    log.info(
        "%s: batch %s read=%d inserted=%d updated=%d unchanged=%d deleted=%d rejected=%d duplicates=%d",
        obj.name,
        result.batch_id,
        result.rows_read,
        result.rows_inserted,
        result.rows_updated,
        result.rows_unchanged,
        result.rows_deleted,
        result.rows_rejected,
        result.rows_duplicates,
    )
    if result.rows_duplicates:
        log.warning(
            "%s: %d older duplicate rows of an id not loaded (the latest version won; "
            "ops.load_audit.rows_duplicates)",
            obj.name,
            result.rows_duplicates,
        )
    if result.rows_rejected:
        log.warning(
            "%s: %d rows quarantined (see ops.quarantine where batch_id = '%s')",
            obj.name,
            result.rows_rejected,
            result.batch_id,
        )


def _execute(conn: Any, relpath: str, script: str, params: dict[str, Any], *, dml_only: bool) -> None:
    import sqlalchemy as sa

    from salesops.warehouse.core import split_statements

    for stmt in split_statements(script):
        if dml_only and not _DML.match(_strip_comments(stmt)):
            raise WarehouseError(f"{relpath}: only DML may run inside the load transaction: {stmt[:80]}")
        conn.execute(sa.text(stmt), params)


def _strip_comments(stmt: str) -> str:
    return "\n".join(ln for ln in stmt.splitlines() if not ln.strip().startswith(("--", "{#")))


DEFAULT_MAX_QUARANTINE_SHARE = 0.01


class QuarantineShareExceeded(WarehouseError):
    """Too much of a batch failed to parse: the export's formats or the map are probably wrong."""


def max_quarantine_share(batch: Batch) -> float:
    """The batch's threshold: the source's (CSV column map ``max_quarantine_share``), else
    ``SALESOPS_MAX_QUARANTINE_SHARE``, else 1 %."""
    import os

    if batch.max_quarantine_share is not None:
        return float(batch.max_quarantine_share)
    return float(os.getenv("SALESOPS_MAX_QUARANTINE_SHARE", DEFAULT_MAX_QUARANTINE_SHARE))


def _guard_quarantine_share(conn: Any, batch: Batch, rejected: int, dialect: str) -> None:
    """Fail the load (inside its transaction: nothing is written) when the quarantined share of
    the batch exceeds the threshold, naming the top reasons and sample rows."""
    import sqlalchemy as sa

    from salesops import sql as sqlfiles

    limit = max_quarantine_share(batch)
    if not batch.rows_read or rejected / batch.rows_read <= limit:
        return
    bind = {"b": batch.batch_id}
    # fetched at once: DuckDB's connection holds one open result at a time
    reasons = conn.execute(
        sa.text(sqlfiles.render("load/quarantine_reasons.sql", dialect=dialect)), bind
    ).all()
    samples = conn.execute(
        sa.text(sqlfiles.render("load/quarantine_samples.sql", dialect=dialect)), bind
    ).all()
    top = "; ".join(f"{r.field}: {r.n_rows} rows, e.g. {r.reason}" for r in reasons)
    rows = "; ".join(
        f"row {r.row_number} id {r.record_id!r} {r.field}={r.value!r} ({r.reason})" for r in samples
    )
    raise QuarantineShareExceeded(
        f"{batch.object}: {rejected} of {batch.rows_read} rows ({rejected / batch.rows_read:.1%}) would be "
        f"quarantined, more than the {limit:.1%} allowed (max_quarantine_share); nothing was loaded. "
        f"Top reasons: {top}. Sample rows: {rows}. Check the export's date/number formats in the "
        f"column map, or raise max_quarantine_share if these rows are really bad."
    )


def mark_failed(wh: Warehouse, batch_id: str, error: str) -> None:
    """Record a failed load in the audit table (outside the rolled-back transaction)."""
    wh.execute(
        "update ops.load_audit set status = 'failed', error = :e, finished_at = cast(:t as timestamp) "
        "where batch_id = :b",
        {"e": error[:2000], "t": _iso(datetime.now(UTC)), "b": batch_id},
    )


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


def as_of(wh: Warehouse) -> datetime | None:
    """The data's "now" (aware UTC): :func:`salesops.as_of.data_as_of`, kept here for callers."""
    from salesops.as_of import data_as_of

    return data_as_of(wh)
