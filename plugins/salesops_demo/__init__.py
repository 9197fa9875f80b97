"""The demo CRM: a seeded synthetic B2B SaaS org behind the same interface as Salesforce.

Usage::

    crm = DemoCrm.seed("small", seed=42)          # or DemoCrm() for the existing file
    until = crm.server_time()
    for page in crm.read_changes("Opportunity", ["Id", "StageName"], "SystemModstamp", None, until):
        ...                                          # pyarrow.Table, every column a string
    crm.advance(7)                                   # a week of realistic activity
    crm.ground_truth()                               # which record has which defect, exactly

One DuckDB file holds one table per object (API field names as columns, typed), plus ``meta``
(clock, seed, size), ``deleted_records``, ``change_log``, ``ground_truth``, ``dup_pairs``,
``malformed_values`` and ``schema_drift``. Every public call opens its own short connection, so
several Airflow task processes can take turns on the file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from salesops.sources.base import DeletedRecord, Record, SourceError, UpdateResult
from salesops_demo import store
from salesops_demo.calendar import parse_start
from salesops_demo.generate import default_path, demo_config, generate, resolve_size
from salesops_demo.rules import rebuild_ground_truth
from salesops_demo.store import connect, q, spec, text_expr, to_naive_utc

__all__ = ["DemoCrm"]


class DemoCrm:
    """The demo source system (implements :class:`salesops.sources.base.CrmSource`)."""

    name = "demo"

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else default_path()

    @property
    def target_id(self) -> str:
        """``demo:<absolute path>``: which demo org a bulk-update plan is for."""
        return f"demo:{self.path.resolve()}"

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def seed(
        cls,
        size: str | int = "small",
        seed: int = 42,
        path: Path | str | None = None,
        start: datetime | str | None = None,
        currencies: str | list[str] | None = None,
    ) -> DemoCrm:
        """Generate a fresh demo org (overwrites any existing file) and return it.

        Args:
            size: 'small' (~3,000 opportunities), 'medium' (~50,000), 'large' (1,000,000) or a
                number of opportunities.
            seed: random seed; the same seed and size give identical data.
            path: DuckDB file; default ``data_dir()/demo_crm.duckdb``.
            start: demo clock after seeding (UTC); default ``start`` in include/config/demo.yaml.
            currencies: the multi-currency mode (issue 13), e.g. ``"EUR,GBP"``: the org re-priced
                in these currencies besides the corporate one (salesops_demo/currencies.py); default
                single-currency.
        """
        from salesops_demo.currencies import apply as apply_currencies
        from salesops_demo.currencies import parse_codes

        crm = cls(path)
        codes = parse_codes(currencies)  # a bad code fails before anything is written
        n_opp = resolve_size(size)
        if start is None:
            start_ts = parse_start(str(demo_config()["start"]))
        elif isinstance(start, str):
            start_ts = parse_start(start)
        else:
            start_ts = to_naive_utc(start)
        tables = generate(n_opp, int(seed), start_ts)
        crm.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = crm.path.with_name(crm.path.name + ".tmp")
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        with connect(tmp) as con:
            for ddl in store.META_DDL:
                con.execute(ddl)
            for api_name, obj in store.objects_by_api().items():
                con.execute(store.create_object_table_sql(obj))
                df = tables.frames.get(api_name)
                if df is not None and len(df):
                    con.register("_frame", df)
                    con.execute(f"INSERT INTO {q(api_name)} BY NAME SELECT * FROM _frame")
                    con.unregister("_frame")
            for table, df in (
                ("dup_pairs", tables.dup_pairs),
                ("malformed_values", tables.malformed),
                ("injected_defects", tables.injected),
            ):
                if len(df):
                    con.register("_frame", df)
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
                    con.unregister("_frame")
            meta = dict(tables.meta)
            if codes:
                apply_currencies(con, codes, start_ts)
                meta["currencies"] = ",".join(codes)
            con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            rebuild_ground_truth(con, start_ts.date())
            con.execute("CHECKPOINT")
        for p in (crm.path, Path(str(crm.path) + ".wal")):
            p.unlink(missing_ok=True)
        tmp.rename(crm.path)
        return crm

    def exists(self) -> bool:
        """Whether the demo file has been seeded."""
        return self.path.exists()

    def _require(self) -> None:
        if not self.path.exists():
            raise SourceError(f"demo CRM not seeded at {self.path}; run `python -m salesops_demo seed`")

    def _meta(self, con: Any) -> dict[str, str]:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())

    # ------------------------------------------------------------------ read API
    def server_time(self) -> datetime:
        """The demo clock (aware UTC). Extracts read changes up to this instant."""
        self._require()
        with connect(self.path) as con:
            clock = self._meta(con)["clock"]
        return datetime.fromisoformat(clock).replace(tzinfo=UTC)

    def _columns(self, con: Any, api_name: str) -> tuple[list[str], set[str]]:
        """(columns visible through the API in table order, hidden columns)."""
        table_cols = [r[0] for r in con.execute(f"DESCRIBE {q(api_name)}").fetchall()]
        drift = con.execute(
            "SELECT field, action FROM schema_drift WHERE api_name = ?", [api_name]
        ).fetchall()
        hidden = {f for f, a in drift if a == "drop"}
        return [c for c in table_cols if c not in hidden], hidden

    def _select_list(self, con: Any, api_name: str, fields: Sequence[str]) -> tuple[list[str], str, str]:
        """Output columns, SELECT expressions and JOIN clauses for API-text rows of ``api_name``."""
        obj = spec(api_name)
        visible, _ = self._columns(con, api_name)
        declared = {f.api_name: f.type for f in obj.fields}
        wanted = [f for f in dict.fromkeys(fields) if f in visible]
        extra = [c for c in visible if c not in declared and c not in wanted]
        out = wanted + extra
        bad = {
            f: i
            for i, (f,) in enumerate(
                con.execute(
                    "SELECT DISTINCT field FROM malformed_values WHERE api_name = ? ORDER BY 1", [api_name]
                ).fetchall()
            )
        }
        exprs, joins = [], []
        for f in out:
            base = text_expr(f"t.{q(f)}", declared.get(f, "string"))
            if f in bad:
                alias = f"m{bad[f]}"
                joins.append(
                    f"LEFT JOIN (SELECT Id, value FROM malformed_values WHERE api_name = {_lit(api_name)} "
                    f"AND field = {_lit(f)}) {alias} ON {alias}.Id = t.Id"
                )
                base = f"CASE WHEN {alias}.Id IS NOT NULL THEN {alias}.value ELSE {base} END"
            exprs.append(f"{base} AS {q(f)}")
        return out, ", ".join(exprs) if exprs else "NULL AS _none", " ".join(joins)

    def read_changes(
        self,
        api_name: str,
        fields: Sequence[str],
        cursor: str,
        since: datetime | None,
        until: datetime,
        page_size: int = 50_000,
    ) -> Iterator[pa.Table]:
        """Records with ``since < cursor <= until`` in pages, ordered by cursor then Id.

        Every column is ``pa.string()`` in the API's text form. Requested fields the object lacks
        are absent; columns added by :meth:`alter_schema` are always included. One ordered query
        streamed in pages of ``page_size`` rows: the file is held for the read of one object (a
        writer in another process waits for it, see ``store.connect``). Keyset paging (one short
        query per page) rescanned and re-sorted the whole table for every page: O(rows^2 / page)
        - most of the full extract's time at 1 M opportunities (3.6 M history rows, 72 pages).
        """
        self._require()
        obj = spec(api_name)
        if cursor not in {f.api_name for f in obj.fields}:
            raise SourceError(f"{api_name} has no cursor field {cursor!r}")
        if page_size <= 0:
            raise ValueError("page_size must be positive")
        since_n, until_n = to_naive_utc(since), to_naive_utc(until)
        with connect(self.path) as con:
            out, select, joins = self._select_list(con, api_name, fields)
            where = [f"t.{q(cursor)} <= $until"]
            params: dict[str, Any] = {"until": until_n}
            if since_n is not None:
                where.append(f"t.{q(cursor)} > $since")
                params["since"] = since_n
            sql = (
                f"SELECT {select} FROM {q(api_name)} t {joins} "
                f"WHERE {' AND '.join(where)} ORDER BY t.{q(cursor)}, t.Id"
            )
            schema = pa.schema([pa.field(c, pa.string()) for c in out])
            reader = con.sql(sql, params=params).to_arrow_reader(page_size)
            pending: list[pa.RecordBatch] = []
            held = 0
            for rb in reader:
                pending.append(rb)
                held += rb.num_rows
                while held >= page_size:
                    table = pa.Table.from_batches(pending)
                    page, rest = table.slice(0, page_size), table.slice(page_size)
                    yield _as_text_page(page, out, schema)
                    pending, held = rest.to_batches(), rest.num_rows
            if held:
                yield _as_text_page(pa.Table.from_batches(pending), out, schema)

    def read_deleted(self, api_name: str, since: datetime | None, until: datetime) -> list[DeletedRecord]:
        """Records of ``api_name`` deleted in ``(since, until]``, oldest first."""
        self._require()
        spec(api_name)
        sql = "SELECT Id, deleted_at FROM deleted_records WHERE api_name = $a AND deleted_at <= $u"
        params: dict[str, Any] = {"a": api_name, "u": to_naive_utc(until)}
        if since is not None:
            sql += " AND deleted_at > $s"
            params["s"] = to_naive_utc(since)
        with connect(self.path) as con:
            rows = con.execute(sql + " ORDER BY deleted_at, Id", params).fetchall()
        return [DeletedRecord(i, ts.replace(tzinfo=UTC)) for i, ts in rows]

    def get_records(self, api_name: str, ids: Sequence[str], fields: Sequence[str]) -> list[Record]:
        """Current values (API text form) of existing records; deleted/unknown ids are absent."""
        self._require()
        spec(api_name)
        if not ids:
            return []
        with connect(self.path) as con:
            out, select, joins = self._select_list(con, api_name, fields)
            con.register("_ids", pa.table({"Id": pa.array(list(ids), pa.string())}))
            rows = (
                con.sql(
                    f"SELECT {select}, t.Id AS __id FROM {q(api_name)} t {joins} WHERE t.Id IN (SELECT Id FROM _ids) "
                    "ORDER BY t.Id"
                )
                .to_arrow_table()
                .to_pylist()
            )
        return [{"Id": r["__id"], **{k: r[k] for k in out if k != "Id"}} for r in rows]

    # ------------------------------------------------------------------ simulation
    def advance(self, days: int, seed: int | None = None) -> dict[str, Any]:
        """Move the clock forward ``days`` days with realistic activity (see simulate.py).

        Every change lands in change_log and is stamped in (old clock, new clock]; the ground
        truth is re-derived for the new as-of date. Returns counts per object and change type.
        """
        from salesops_demo.simulate import advance

        self._require()
        with connect(self.path) as con:
            self._refresh_ground_truth(con)
            con.execute("BEGIN TRANSACTION")
            try:
                result = advance(con, self._meta(con), int(days), seed)
                rebuild_ground_truth(con, datetime.fromisoformat(self._meta(con)["clock"]).date())
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return result

    def _refresh_ground_truth(self, con: Any) -> None:
        if self._meta(con).get("gt_dirty") == "1":
            rebuild_ground_truth(con, datetime.fromisoformat(self._meta(con)["clock"]).date())
            con.execute("DELETE FROM meta WHERE key = 'gt_dirty'")

    # ------------------------------------------------------------------ inspection
    def ground_truth(self):  # -> pandas.DataFrame
        """Defects per record as of the demo clock: object, record_id, defect, detail, related_id."""
        self._require()
        with connect(self.path) as con:
            self._refresh_ground_truth(con)
            return con.execute("SELECT * FROM ground_truth ORDER BY object, record_id, defect, detail").df()

    def change_log(self, since_seq: int | None = None):  # -> pandas.DataFrame
        """Changes made by advance() and update_records(), oldest first (seq > since_seq)."""
        self._require()
        with connect(self.path) as con:
            return con.execute(
                "SELECT * FROM change_log WHERE seq > $s ORDER BY seq",
                {"s": -1 if since_seq is None else since_seq},
            ).df()

    def summary(self) -> dict[str, Any]:
        """Counts per object, clock, seed, size and defects per type."""
        gt = self.ground_truth()
        with connect(self.path) as con:
            meta = self._meta(con)
            counts = {
                api: con.execute(f"SELECT count(*) FROM {q(api)}").fetchall()[0][0]
                for api in store.objects_by_api()
            }
            deleted = con.execute("SELECT count(*) FROM deleted_records").fetchall()[0][0]
            changes = con.execute("SELECT count(*) FROM change_log").fetchall()[0][0]
        return {
            "path": str(self.path),
            "clock": meta["clock"],
            "seed": int(meta["seed"]),
            "size": int(meta["size"]),
            "counts": counts,
            "deleted_records": deleted,
            "change_log_rows": changes,
            "defects": {k: int(v) for k, v in gt.groupby("defect").size().sort_index().items()},
        }

    def table_hashes(self) -> dict[str, str]:
        """A content hash per table (for determinism checks)."""
        self._require()
        out = {}
        with connect(self.path) as con:
            tables = [
                r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            ]
            for t in sorted(tables):
                out[t] = str(
                    con.execute(
                        f"SELECT count(*) || ':' || coalesce(sum(hash(x)), 0) FROM (SELECT {q(t)} AS x FROM {q(t)}) s"
                    ).fetchall()[0][0]
                )
        return out

    # ------------------------------------------------------------------ writes
    def update_records(self, api_name: str, updates: Sequence[Record]) -> list[UpdateResult]:
        """Apply field updates; one result per update, in order (allOrNone = false).

        A successful update stamps SystemModstamp with a new demo time one second after the clock
        (the clock moves with it, so the next incremental extract sees the change), writes
        OpportunityFieldHistory for StageName/Amount/CloseDate/ForecastCategoryName changes, keeps
        IsClosed/IsWon/Probability (and the default forecast category) in line with StageName, and
        logs to change_log with origin 'api'.
        """
        from salesops_demo.writes import update_records

        self._require()
        spec(api_name)
        with connect(self.path) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                clock = datetime.fromisoformat(self._meta(con)["clock"])
                visible, _ = self._columns(con, api_name)
                results, stamp = update_records(con, api_name, list(updates), clock, visible)
                if stamp is not None:
                    con.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('clock', ?), ('gt_dirty', '1')",
                        [stamp.isoformat()],
                    )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return results

    # ------------------------------------------------------------------ test hooks
    def inject_faults(
        self, transient_ids: dict[str, int] | set[str] | None = None, permanent_ids: set[str] | None = None
    ) -> None:
        """Make update_records fail for these ids (stored in the file, so other processes see it).

        Args:
            transient_ids: ids that fail with UNABLE_TO_LOCK_ROW (transient=True): a set fails once
                per id, a dict {id: n} fails n times before succeeding.
            permanent_ids: ids that always fail with a non-retryable error.
        """
        from salesops_demo.writes import FAULT_DDL

        transient = (
            dict(transient_ids) if isinstance(transient_ids, dict) else {i: 1 for i in transient_ids or ()}
        )
        rows = [(i, "transient", int(n)) for i, n in transient.items()]
        rows += [(i, "permanent", 0) for i in permanent_ids or ()]
        self._require()
        with connect(self.path) as con:
            con.execute(FAULT_DDL)
            con.execute("DELETE FROM fault_injection")
            if rows:
                con.executemany("INSERT INTO fault_injection VALUES (?, ?, ?)", rows)

    def alter_schema(self, api_name: str, add: Sequence[str] = (), drop: Sequence[str] = ()) -> None:
        """Simulate schema drift: add text columns (filled with a value per record) or hide fields.

        Added columns appear in read_changes/get_records of every record (their SystemModstamp is not
        touched: a real org adding a field does not change records). Dropped fields disappear from
        the API (the data is kept so the simulation still works); re-adding a dropped field shows it again.
        """
        self._require()
        obj = spec(api_name)
        with connect(self.path) as con:
            cols = [r[0] for r in con.execute(f"DESCRIBE {q(api_name)}").fetchall()]
            for f in add:
                con.execute("DELETE FROM schema_drift WHERE api_name = ? AND field = ?", [api_name, f])
                if f not in cols:
                    con.execute(f"ALTER TABLE {q(api_name)} ADD COLUMN {q(f)} VARCHAR")
                    con.execute(f"UPDATE {q(api_name)} SET {q(f)} = 'drift-' || right(Id, 4)")
                    con.execute("INSERT INTO schema_drift VALUES (?, ?, 'add')", [api_name, f])
            for f in drop:
                if f == obj.key or f == obj.cursor:
                    raise SourceError(f"cannot drop {api_name}.{f}: it is the key or the cursor")
                if f not in cols:
                    raise SourceError(f"{api_name} has no field {f!r} to drop")
                con.execute("DELETE FROM schema_drift WHERE api_name = ? AND field = ?", [api_name, f])
                con.execute("INSERT INTO schema_drift VALUES (?, ?, 'drop')", [api_name, f])


def _as_text_page(table: pa.Table, out: list[str], schema: pa.Schema) -> pa.Table:
    return table.select(out).cast(schema)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
