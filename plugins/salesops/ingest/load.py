"""Load a landed batch: landing Parquet -> raw -> quarantine -> staging, in one transaction.

:func:`load_batch`, in ONE transaction: replaces the batch in raw, types it, quarantines rows
whose values do not parse (record id, field, value, reason), merges the rest into staging (latest
version per key), applies deletes, records counts and moves the watermark. A crash anywhere
leaves the warehouse exactly as before, and re-running a batch is a no-op for staging. The
warehouse package only stores; this module decides what a load writes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from salesops.config import ObjectSpec, get_object
from salesops.ingest.batches import Batch, LoadResult, iso
from salesops.warehouse.core import Warehouse, WarehouseError, check_identifier
from salesops.warehouse.schema import ensure_object_tables

log = logging.getLogger(__name__)


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
            "columns": [(c, "varchar") for c in batch.columns]
            + [("_row_number", "bigint"), ("_origin", "varchar")],
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

    The whole load keeps the DuckDB file open (``Warehouse.pinned``): its schema check, the
    transaction and the audit share one database instance instead of re-opening the file per
    step.

    Two phases on one connection: *prepare* builds session-temporary tables from the landing
    Parquet (on Snowflake, PUT to a stage and COPY INTO, then the same SQL as DuckDB) and
    computes the counts; *apply* is DML only, in ONE transaction: raw, quarantine, merge into
    staging, deletes, audit and watermark. On DuckDB both phases share the transaction, and the
    raw insert comes first, so the Parquet is decoded once and the rest reads the batch from raw.

    Args:
        wh: the warehouse.
        batch: what :func:`extract_batch` returned.

    Returns:
        Counts for the audit trail.
    """
    with wh.pinned():
        return _load_batch(wh, batch)


def _load_batch(wh: Warehouse, batch: Batch) -> LoadResult:
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
    now = iso(datetime.now(UTC))
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
            relpath,
            obj=obj,
            dialect=dialect,
            columns=columns,
            raw_columns=raw_columns,
            batch_id=batch.batch_id,
            **ctx,
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
                "rows": '(select cast(null as bigint) as "_row_number", cast(null as varchar) as "_origin" limit 0) as empty',
                "deleted": '(select cast(null as varchar) as "id", cast(null as timestamp) as "deleted_at" limit 0) as none',
                "notes": '(select cast(null as bigint) as "note_row", cast(null as varchar) as "note_field", '
                'cast(null as varchar) as "note_reason" limit 0) as no_notes',
            }
            # a batch landed before parts carried `_origin` (an upgrade between extract and load)
            origin_landed = snowflake or not parts or "_origin" in pq.read_schema(parts[0]).names
            run(
                conn,
                "load/land_batch.sql",
                origin_landed=origin_landed,
                relation=rel.get("rows") if parts else empty["rows"],
                deleted_relation=rel.get("deleted") or empty["deleted"],
                notes_relation=rel.get("notes") or empty["notes"],
            )
            if not snowflake:  # DuckDB: one transaction; the batch is read from raw from here on
                run(conn, "load/insert_raw.sql")
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
            if snowflake:
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
            rejected, warned = conn.execute(
                sa.text(
                    "select count(distinct case when severity = 'error' then row_number end), "
                    "count(distinct case when severity = 'warning' then row_number end) "
                    "from ops.quarantine where batch_id = :b"
                ),
                {"b": batch.batch_id},
            ).one()
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
                rows_warned=int(warned or 0),
            )
            params.update(
                {k: v for k, v in result.to_dict().items() if k.startswith("rows_")}
                | {
                    "schema_added": ",".join(batch.schema_added) or None,
                    "schema_missing": ",".join(batch.schema_missing) or None,
                    "finished_at": iso(datetime.now(UTC)),
                    "until": batch.until,
                }
            )
            run(conn, "load/finish_batch.sql")
            if batch.field_labels:  # DML: the labels exception messages name fields by
                conn.execute(
                    sa.text(sqlfiles.render("load/delete_field_labels.sql", dialect=dialect)),
                    {"object": obj.api_name},
                )
                conn.execute(
                    sa.text(sqlfiles.render("load/insert_field_label.sql", dialect=dialect)),
                    [
                        {"object": obj.api_name, "api_name": api, "label": label}
                        for api, label in sorted(batch.field_labels.items())
                    ],
                )
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
    if result.rows_warned:
        log.warning(
            "%s: %d rows loaded with an optional field empty: its value did not parse "
            "(see ops.quarantine where batch_id = '%s' and severity = 'warning')",
            obj.name,
            result.rows_warned,
            result.batch_id,
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
