"""Extract and land: a source's changes since the watermark -> Parquet in the landing folder.

:func:`extract_batch` reads the records changed since the object's watermark up to the source's
clock, lands them as Parquet (every value as text, as extracted) plus the deletes (and, when due,
every live id and formula values), and registers the batch in ``ops.load_audit`` (status
``landed``). The batch folder appears whole or not at all (written as ``.partial``, then renamed).
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from salesops import paths
from salesops.config import ObjectSpec, get_object
from salesops.ingest.batches import Batch, batch_id_for, iso, utc
from salesops.ingest.watermarks import find_checkpoint, get_watermark, save_checkpoint
from salesops.warehouse.core import Warehouse
from salesops.warehouse.schema import ensure_object_tables

if TYPE_CHECKING:
    from salesops.sources.base import CrmSource, Page

log = logging.getLogger(__name__)

# Landing pages are written without Parquet dictionary encoding: most of a CRM page's text is
# unique (ids, names, stamps), so pyarrow built a dictionary per column only to give it up; that
# was half of writing a page (a 50,000-row lead page: 0.09 -> 0.05 CPU-s); the files are no
# bigger and DuckDB reads them as fast.
_PAGE_WRITE = {"use_dictionary": False}


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
    started = datetime.now(UTC)
    with wh.pinned():  # the warehouse steps before the read share one open database
        ensure_object_tables(wh, [obj])
        if since is None and not full_refresh:
            since = get_watermark(wh, obj, source.name)
    # Sources whose clock is per object (CSV exports: each object's own files) say so.
    per_object = getattr(source, "server_time_for", None)
    until = utc(per_object(obj.api_name) if per_object else source.server_time())
    if since is not None and since >= until:
        log.info("%s: source clock %s is not past the watermark %s; nothing to read", obj.name, until, since)
    resumed = find_checkpoint(landing_root or paths.landing_dir(), obj.name, source, full_refresh)
    if resumed is not None:  # a crashed read that can continue where it stopped (Bulk locator)
        since = None if resumed["since"] is None else utc(datetime.fromisoformat(resumed["since"]))
        until = utc(datetime.fromisoformat(resumed["until"]))
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
            origins = _pop_origins(page)
            table = page_to_text_table(page)
            if table.num_rows == 0:
                continue
            seen_columns.update(dict.fromkeys(table.column_names))
            cols = [c for c in manifest_fields if c in table.column_names]
            cols += [c for c in table.column_names if c not in manifest_fields]
            aligned = _align(table, cols)
            numbers = pa.array(range(rows + 1, rows + aligned.num_rows + 1), pa.int64())
            pq.write_table(
                aligned.append_column("_row_number", numbers).append_column(
                    "_origin",
                    pa.array(origins, pa.string()) if origins else pa.nulls(aligned.num_rows, pa.string()),
                ),
                tmp_dir / f"part-{len(part_columns):05d}.parquet",
                **_PAGE_WRITE,
            )
            part_columns.append(cols)
            rows += aligned.num_rows
            save_checkpoint(tmp_dir, source, batch_id, since, until, part_columns, seen_columns, rows)
    extra = [c for c in seen_columns if c not in manifest_fields]
    missing = [c for c in manifest_fields if c not in seen_columns] if rows else []
    columns = [c for c in manifest_fields if c in seen_columns or not rows] + extra
    for i, cols in enumerate(part_columns):
        path = tmp_dir / f"part-{i:05d}.parquet"
        # a page landed before the batch's parts gained `_origin` (resumed across an upgrade) is
        # rewritten too, with no origin (an API source has none)
        if cols != columns or (resumed is not None and "_origin" not in pq.read_schema(path).names):
            part = pq.read_table(path)
            numbers = part.column("_row_number")
            origin = (
                part.column("_origin")
                if "_origin" in part.column_names
                else pa.nulls(part.num_rows, pa.string())
            )
            aligned = (
                _align(
                    part.drop_columns([c for c in ("_row_number", "_origin") if c in part.column_names]),
                    columns,
                )
                .append_column("_row_number", numbers)
                .append_column("_origin", origin)
            )
            pq.write_table(aligned, path, **_PAGE_WRITE)

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
                    [utc(d.deleted_at).replace(tzinfo=None) for d in deleted], pa.timestamp("us")
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
    with wh.pinned():  # the audit steps after the read share one open database
        return _register(
            wh,
            obj,
            source,
            batch_id,
            since,
            until,
            batch_dir,
            rows,
            deleted,
            columns,
            extra,
            missing,
            started,
            run_id,
            api_calls,
            reconciled,
            formulas,
        )


def _register(
    wh: Warehouse,
    obj: ObjectSpec,
    source: CrmSource,
    batch_id: str,
    since: datetime | None,
    until: datetime,
    batch_dir: Path,
    rows: int,
    deleted: list[Any],
    columns: list[str],
    extra: list[str],
    missing: list[str],
    started: datetime,
    run_id: str | None,
    api_calls: int | None,
    reconciled: bool,
    formulas: bool,
) -> Batch:
    """Register a landed batch in ops.load_audit (status ``landed``) and describe it."""
    warning = _zero_rows_warning(wh, obj, source.name, rows, full=since is None)

    if extra:
        log.warning("%s: schema drift: the source sent fields not in the manifest: %s", obj.name, extra)
    if missing:
        log.warning("%s: schema drift: the source did not send manifest fields: %s", obj.name, missing)
    batch = Batch(
        batch_id=batch_id,
        object=obj.name,
        source=source.name,
        since=iso(since),
        until=iso(until),  # type: ignore[arg-type]
        landing_path=str(batch_dir),
        rows_read=rows,
        deletes_read=len(deleted),
        columns=columns,
        schema_added=extra,
        schema_missing=missing,
        max_quarantine_share=getattr(source, "max_quarantine_share", None),
        duplicates_dropped=_source_duplicates(source, obj),
        field_labels=_source_labels(source, obj),
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
            "started_at": iso(started),
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


def _pop_origins(page: Page) -> list[str | None] | None:
    """Take each record's origin (``ORIGIN_KEY``: a CSV export's file and line) out of a page;
    None when no record has one (API and Arrow pages)."""
    from salesops.sources.base import ORIGIN_KEY

    if isinstance(page, pa.Table):
        return None
    origins = [rec.pop(ORIGIN_KEY, None) for rec in page]
    return origins if any(o is not None for o in origins) else None


def _source_labels(source: CrmSource, obj: ObjectSpec) -> dict[str, str]:
    """The source's own labels of the object's manifest fields (CSV column map headers), if any."""
    labels = getattr(source, "field_labels", None)
    if labels is None:
        return {}
    known = set(obj.api_fields)
    return {api: str(label) for api, label in labels(obj.api_name).items() if api in known}


def _source_duplicates(source: CrmSource, obj: ObjectSpec) -> int:
    """Rows the source dropped as older duplicates of an id (CSV ``duplicates: latest``)."""
    dropped = getattr(source, "duplicates_dropped", None)
    return int((dropped or {}).get(obj.api_name, 0)) if isinstance(dropped, dict) else 0


# A read of zero records where the previous read of the same kind (first/full vs incremental)
# had at least this many is reported as a warning with both counts (a query that timed out
# upstream and "succeeded" looks exactly like this).
ZERO_ROWS_WARNING_MIN = 1000


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
        due = last is None or utc(last) < until - timedelta(days=float(every))
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
    if last is not None and utc(last) >= until - timedelta(days=float(every)):
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


def _zero_rows_warning(wh: Warehouse, obj: ObjectSpec, source: str, rows: int, *, full: bool) -> str | None:
    """A read of 0 records where the previous read OF THE SAME KIND (full or incremental) read many.

    A quiet object (campaigns, quotas) rightly reads 0 changes the week after its full load; that
    is compared with the previous incremental read, never with the full load's count.
    """
    if rows:
        return None
    previous = wh.scalar(
        "select rows_read from ops.load_audit where object = :o and source = :s and status = 'loaded' "
        "and (since is null) = :full order by until desc limit 1",
        {"o": obj.name, "s": source, "full": full},
    )
    if previous is None or int(previous) < ZERO_ROWS_WARNING_MIN:
        return None
    message = (
        f"read 0 records where the previous sync read {int(previous)}: check the source "
        "(a timed-out or filtered query looks like this)"
    )
    log.warning("%s: %s", obj.name, message)
    return message
