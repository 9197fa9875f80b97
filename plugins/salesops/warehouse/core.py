"""Warehouse access: connections, SQL files, bulk loads.

The engine is chosen by a SQLAlchemy URL: ``duckdb:////abs/path/warehouse.duckdb`` by default,
``snowflake://...`` in production. In Airflow the warehouse comes from the ``salesops_warehouse``
connection (see salesops.warehouse.hook: a Snowflake connection goes through Airflow's
SnowflakeHook, which handles password and key-pair auth); outside Airflow from
``SALESOPS_WAREHOUSE_URL`` or the project-local default file.

The SQL in include/sql is the same on both engines; what differs is rendered by the macros in
include/sql/macros.sql (``dialect`` is passed to every template) and, for the few operations that
are not SQL text (bulk appends, the load's transaction boundary), by the ``dialect`` branches in
this module and in salesops.ingest.load. README "Snowflake" lists the differences.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from salesops import paths, sql

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
SCHEMAS = ("raw", "staging", "quality", "marts", "ops")
# A DuckDB file starts with three 4 KiB headers; a shorter file is one still being created.
_DUCKDB_HEADER_BYTES = 3 * 4096


class WarehouseError(RuntimeError):
    """A warehouse operation failed in a way the caller should report, not retry blindly."""


def default_warehouse_url() -> str:
    url = os.getenv("SALESOPS_WAREHOUSE_URL")
    if url:
        return url
    return f"duckdb:///{(paths.data_dir() / 'warehouse.duckdb').resolve()}"


def check_identifier(name: str) -> str:
    """Identifiers are interpolated into SQL by Jinja, so they must be plain names."""
    if not _IDENT.match(name):
        raise WarehouseError(f"not a safe SQL identifier: {name!r}")
    return name


class Warehouse:
    """One warehouse, addressed by a SQLAlchemy URL.

    Args:
        url: SQLAlchemy URL; defaults to :func:`default_warehouse_url`.
        lock_timeout_s: DuckDB allows one writing process per file; another process waits for
            the lock this long before giving up.
    """

    def __init__(
        self,
        url: str | None = None,
        lock_timeout_s: float = 120.0,
        *,
        engine_factory: Callable[[], sa.Engine] | None = None,
        schema_prefix: str | None = None,
    ) -> None:
        self.url = url or default_warehouse_url()
        self.lock_timeout_s = lock_timeout_s
        # Snowflake: several environments in one database (DEV_RAW, CI_RAW, ...): see schema_names.
        self.schema_prefix = schema_prefix or None
        if self.schema_prefix is not None:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", self.schema_prefix):
                raise WarehouseError(
                    f"schema_prefix must be a plain name (letters, digits, _): {schema_prefix!r}"
                )
            if self.dialect != "snowflake":
                raise WarehouseError(
                    "schema_prefix is a Snowflake connection setting; on DuckDB use one file per environment"
                )
        # Snowflake through Airflow: SnowflakeHook builds the engine (key-pair auth and session
        # parameters travel as connect_args, which a URL cannot carry).
        self._engine_factory = engine_factory
        self._engine: sa.Engine | None = None

    def __repr__(self) -> str:  # never print credentials
        return f"Warehouse({sa.engine.make_url(self.url).render_as_string(hide_password=True)})"

    @property
    def dialect(self) -> str:
        return sa.engine.make_url(self.url).get_backend_name()

    @property
    def schema_names(self) -> dict[str, str]:
        """The project's schema names (as the SQL writes them) -> the names in the warehouse:
        ``raw`` -> ``<schema_prefix>_raw`` when the connection sets a prefix, else the same."""
        pre = f"{self.schema_prefix.lower()}_" if self.schema_prefix else ""
        return {name: pre + name for name in SCHEMAS}

    def physical(self, qualified: str) -> str:
        """``raw.crm__lead`` -> the table's name in the warehouse (with the schema prefix)."""
        schema, dot, table = check_identifier(qualified).rpartition(".")
        return f"{self.schema_names.get(schema.lower(), schema)}.{table}" if dot else table

    @property
    def path(self) -> Path | None:
        """The DuckDB file, if this is a DuckDB warehouse."""
        if self.dialect != "duckdb":
            return None
        db = sa.engine.make_url(self.url).database
        return Path(db) if db and db != ":memory:" else None

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._engine_factory is not None:
                self._engine = self._engine_factory()
            else:
                # NullPool: a DuckDB file stays unlocked between operations, so other processes
                # (the next task, the Airflow UI's viewers) can open it. On Snowflake every
                # connect() is a new session, so session-scoped temporary tables never leak.
                self._engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
            if self.dialect == "snowflake":
                ops = self.schema_names["ops"]
                sa.event.listen(self._engine, "connect", lambda c, r: _snowflake_session(c, r, ops))
            if self.schema_prefix:
                # Every statement the engine runs (SQL files, inline SQL, bulk inserts) goes
                # through the same naming: one place, so no file can miss the prefix.
                from salesops.warehouse.schema_names import rewrite_schemas

                names = self.schema_names

                def _rewrite(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
                    return rewrite_schemas(statement, names), parameters

                sa.event.listen(self._engine, "before_cursor_execute", _rewrite, retval=True)
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _open(self) -> sa.Connection:
        deadline = time.monotonic() + self.lock_timeout_s
        pause, waited = 0.05, False
        while True:
            try:
                return self.engine.connect()
            except sa.exc.OperationalError as exc:
                msg = str(exc).lower()
                creating = "lock" not in msg and self._being_created(msg)
                if not ("lock" in msg or creating) or time.monotonic() > deadline:
                    raise
                if not waited:
                    what = "being created" if creating else "locked"
                    log.info("warehouse file is %s by another process; waiting", what)
                    waited = True
                # Short first pauses: writers hand the file over every second or so (one task's
                # write is typically under a second), so a fixed 0.5 s cost 0.25 s per hand-over.
                time.sleep(pause)
                pause = min(pause * 1.5, 0.5)

    def _being_created(self, msg: str) -> bool:
        """Another process is creating the DuckDB file and has not written its headers yet (two
        tasks of a fresh warehouse's first run starting together on two workers): DuckDB calls
        the file "not a valid DuckDB database file". A file past the headers is not retried."""
        path = self.path
        if "not a valid duckdb database file" not in msg or path is None:
            return False
        try:
            return path.stat().st_size < _DUCKDB_HEADER_BYTES
        except FileNotFoundError:
            return True

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection in a transaction (commits on success, rolls back on error)."""
        conn = self._open()
        try:
            with conn.begin():
                yield conn
        finally:
            conn.close()

    @contextmanager
    def session(self) -> Iterator[sa.Connection]:
        """A connection whose transactions the caller commits (``conn.commit()``); anything not
        committed is rolled back when the block ends. Temporary tables live as long as it does."""
        conn = self._open()
        try:
            yield conn
        finally:
            if conn.in_transaction():
                conn.rollback()
            conn.close()

    @contextmanager
    def raw_duckdb(self) -> Iterator[Any]:
        """The underlying duckdb connection (for Arrow registration), inside a transaction."""
        if self.dialect != "duckdb":
            raise WarehouseError("raw_duckdb() is only available on a DuckDB warehouse")
        with self.connect() as conn:
            yield conn.connection.driver_connection

    def execute(self, statement: str, params: Mapping[str, Any] | None = None) -> None:
        with self.connect() as conn:
            conn.execute(sa.text(statement), dict(params or {}))

    def execute_script(self, script: str, params: Mapping[str, Any] | None = None) -> None:
        """Run several ``;``-separated statements in one transaction."""
        with self.connect() as conn:
            for stmt in split_statements(script):
                conn.execute(sa.text(stmt), dict(params or {}))

    def query(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.connect() as conn:
            result = conn.execute(sa.text(statement), dict(params or {}))
            return [dict(row._mapping) for row in result]

    def scalar(self, statement: str, params: Mapping[str, Any] | None = None) -> Any:
        with self.connect() as conn:
            return conn.execute(sa.text(statement), dict(params or {})).scalar()

    def query_df(self, statement: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        import pandas as pd

        with self.connect() as conn:
            return pd.read_sql_query(sa.text(statement), conn, params=dict(params or {}))

    def run_file(self, relpath: str, params: Mapping[str, Any] | None = None, **jinja: Any) -> None:
        """Render include/sql/<relpath> with ``jinja`` and run its statements in one transaction."""
        self.execute_script(sql.render(relpath, dialect=self.dialect, **jinja), params)

    def query_file(self, relpath: str, params: Mapping[str, Any] | None = None, **jinja: Any) -> pd.DataFrame:
        return self.query_df(sql.render(relpath, dialect=self.dialect, **jinja), params)

    def table_exists(self, qualified: str) -> bool:
        schema, _, table = self.physical(qualified).rpartition(".")
        if self.dialect == "duckdb" and schema:
            # One catalog query: SQLAlchemy's reflection on duckdb_engine costs about 35 ms of CPU
            # per call (pg_catalog emulation), and the load path asks several times per task.
            return bool(self.tables_present([f"{schema}.{table}"]))
        with self.connect() as conn:  # through connect(): it waits for another process's file lock
            return sa.inspect(conn).has_table(table, schema=schema or None)

    def tables_present(self, qualified: list[str]) -> set[str]:
        """Which of the given (physical, schema-qualified) tables or views exist, lower-cased; DuckDB."""
        names = [check_identifier(n) for n in qualified]
        with self.connect() as conn:
            rows = conn.execute(sa.text(sql.render("catalog/tables_present.sql", names=names)))
            return {r[0] for r in rows}

    def columns(self, qualified: str) -> list[str]:
        """The table's (or view's) column names in order; NoSuchTableError if it does not exist."""
        schema, _, table = self.physical(qualified).rpartition(".")
        with self.connect() as conn:
            if self.dialect == "duckdb" and schema:  # reflection: ~0.1 CPU-s per call (see table_exists)
                bind = {"s": schema, "t": table}
                cols = [r[0] for r in conn.execute(sa.text(sql.render("catalog/table_columns.sql")), bind)]
                if not cols:  # as reflection does
                    raise sa.exc.NoSuchTableError(f"{schema}.{table}")
                return cols
            return [c["name"] for c in sa.inspect(conn).get_columns(table, schema=schema or None)]

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Keep the DuckDB database open for the block (one idle connection), so the block's many
        short operations share one instance: each would otherwise open the file (read its
        catalog) and, closing it, checkpoint it - about 20 ms of CPU per operation. Other
        processes wait for the file meanwhile (their connects retry for ``lock_timeout_s``), so
        pin only bursts of warehouse work, never a slow source read. No-op on other engines."""
        if self.dialect != "duckdb":
            yield
            return
        conn = self._open()
        try:
            yield
        finally:
            conn.close()

    def ensure_schemas(self) -> None:
        with self.connect() as conn:
            for schema in SCHEMAS:
                conn.execute(sa.text(f"create schema if not exists {schema}"))

    def insert_arrow(self, conn: sa.Connection, qualified: str, table: pa.Table) -> int:
        """Bulk-append an Arrow table to an existing table by column name, inside ``conn``'s transaction."""
        check_identifier(qualified)
        if self.dialect == "duckdb":
            duck = conn.connection.driver_connection
            view = f"_arrow_{abs(hash((qualified, time.monotonic_ns())))}"
            duck.register(view, table)
            try:
                cols = ", ".join(f'"{c}"' for c in table.column_names)
                duck.execute(f"insert into {qualified} ({cols}) select {cols} from {view}")
            finally:
                duck.unregister(view)
            return table.num_rows
        if self.dialect == "snowflake":
            # A multi-row INSERT (the connector batches executemany): plain DML, so it stays
            # inside the caller's transaction. write_pandas would create a temporary stage, and
            # any DDL in Snowflake commits the open transaction. Batch loads, the big writes,
            # go through a stage in salesops.ingest.load instead.
            sf_cols = [snowflake_column(c) for c in table.column_names]
            binds = ", ".join(f":p{i}" for i in range(len(sf_cols)))
            statement = f"insert into {qualified} ({', '.join(sf_cols)}) values ({binds})"
            names = [f"p{i}" for i in range(len(sf_cols))]
            rows = [dict(zip(names, row, strict=True)) for row in _arrow_rows(table)]
            for start in range(0, len(rows), 10_000):
                conn.execute(sa.text(statement), rows[start : start + 10_000])
            return table.num_rows
        raise WarehouseError(f"bulk insert not implemented for {self.dialect}")


def _snowflake_session(dbapi_conn: Any, _record: Any, ops: str = "ops") -> None:
    """Every Snowflake session works in the project's ``ops`` schema (``<prefix>_ops`` with a
    schema prefix; this raw DB-API cursor bypasses the engine's statement rewrite).

    Our SQL qualifies every persistent table (raw.x, staging.x, ...), but temporary tables
    (_typed, _merge_counts, ...) are unqualified, and Snowflake refuses to create one in a session
    without a current schema (a connection that names a database but no schema). ``ops`` is the
    project's own bookkeeping schema, so this never depends on the connection's schema field.
    """
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"create schema if not exists {check_identifier(ops)}")
        cur.execute(f"use schema {ops}")
    finally:
        cur.close()


def snowflake_column(name: str) -> str:
    """A column name as our SQL writes it, for Snowflake.

    Our own names are unquoted lowercase in include/sql, which Snowflake folds to upper case;
    anything else (CRM API names such as ``OwnerId``) is quoted everywhere and keeps its case.
    """
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return name
    if '"' in name:
        raise WarehouseError(f"refusing a column name with a quote: {name!r}")
    return f'"{name}"'


def _arrow_rows(table: pa.Table) -> Iterator[tuple[Any, ...]]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return zip(*columns, strict=True)


_STATEMENT_END = re.compile(
    r";\s*(?:\n|$)|;(?=\s*(?:create|insert|delete|update|merge|drop|alter|select|with|put|copy)\b)",
    re.IGNORECASE,
)


def split_statements(script: str) -> list[str]:
    """Split a SQL script on ``;`` at line ends, or before the next statement's first keyword (a
    Jinja ``-#}`` can pull two statements onto one line). Our SQL files never put ``;`` inside
    strings. DuckDB runs a multi-statement string as a whole; Snowflake needs one at a time."""
    parts = _STATEMENT_END.split(script)
    out = []
    for part in parts:
        lines = [ln for ln in part.splitlines() if ln.strip() and not ln.strip().startswith("--")]
        if lines:
            out.append(part.strip())
    return out
