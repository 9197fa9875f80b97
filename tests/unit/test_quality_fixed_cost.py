"""The quality run's fixed cost (issue 17): what it pays per run whatever the data size.

- ``Warehouse.columns`` on DuckDB reads DuckDB's catalog (the same names, in the same order, as
  SQLAlchemy's inspector, which costs ~60 ms of CPU per call through duckdb_engine's pg_catalog);
- a quality run opens the DuckDB file once: every other connection of the run shares the held
  instance (a cold open reads the file's metadata, and the last close checkpoints it);
- each generated expectation suite is written to GX's store once, with all its expectations.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from salesops.config import object_manifest
from salesops.warehouse.core import Warehouse
from salesops.warehouse.schema import ensure_object_tables

AS_OF = datetime(2026, 11, 1)


def _inspector_columns(wh: Warehouse, schema: str, table: str) -> list[str]:
    with wh.connect() as conn:
        return [c["name"] for c in sa.inspect(conn).get_columns(table, schema=schema)]


def test_columns_reads_duckdb_catalog_like_the_inspector(tmp_path, monkeypatch):
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    ensure_object_tables(wh)
    wh.execute("create schema if not exists quality")
    wh.execute('create table quality.mixed ("Zeta" varchar, alpha int, "Beta_Col" double)')
    wh.execute('create view quality.v_mixed as select alpha, "Zeta" from quality.mixed')
    tables = [obj.staging_table for obj in object_manifest().values()] + ["quality.mixed", "quality.v_mixed"]
    expected = {t: _inspector_columns(wh, *t.split(".")) for t in tables}

    import salesops.warehouse.core as core

    def no_inspector(*_a, **_k):
        raise AssertionError("Warehouse.columns reflected through SQLAlchemy's inspector on DuckDB")

    monkeypatch.setattr(core.sa, "inspect", no_inspector)
    for t in tables:
        assert wh.columns(t) == expected[t], t
    assert wh.columns("QUALITY.MIXED") == ["Zeta", "alpha", "Beta_Col"]  # DuckDB names are case-insensitive
    with pytest.raises(sa.exc.NoSuchTableError):
        wh.columns("quality.no_such_table")


def test_quality_run_opens_the_duckdb_file_once(tmp_path, monkeypatch):
    from salesops.quality.runner import run_quality

    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    ensure_object_tables(wh)
    for name in object_manifest():
        wh.execute(
            "insert into ops.load_audit (batch_id, object, source, until, status, started_at, finished_at) "
            "values (:b, :o, 'demo', :u, 'loaded', :u, :f)",
            {"b": f"b-{name}", "o": name, "u": AS_OF, "f": AS_OF + timedelta(minutes=5)},
        )
    opened: list[int] = []  # connections of this warehouse open when each one was opened
    live: set[int] = set()
    real_open = Warehouse._open

    def spy_open(self):
        conn = real_open(self)
        if self is wh:
            opened.append(len(live))
            live.add(id(conn))
            real_close = conn.close

            def close():
                live.discard(id(conn))
                real_close()

            conn.close = close
        return conn

    monkeypatch.setattr(Warehouse, "_open", spy_open)
    summary = run_quality(wh, run_id="once", build_docs=False)
    assert summary.gate_passed is not None
    assert len(opened) > 10
    # the first connection opens the file; every later one finds it open (the held instance)
    assert opened[0] == 0
    assert [i for i, n in enumerate(opened) if n == 0] == [0], opened
    assert not live
    assert wh.scalar("select status from quality.run where run_id = 'once'") == "checked"


def test_each_suite_is_stored_once_with_all_its_expectations(tmp_path):
    from salesops.quality import expectations as ex

    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    wh.execute("create schema if not exists quality")
    wh.execute(
        "create table quality.batch as select * from (values ('a', 1, 'x'), ('b', -2, null), ('b', 5, 'y')) "
        "t(record_id, amount, email)"
    )
    specs = [
        ex.ExpectationSpec("key_integrity", "missing id", "not_null", "record_id"),
        ex.ExpectationSpec("key_integrity", "duplicate id", "unique", "record_id"),
        ex.ExpectationSpec(
            "amount", "non_positive", "between", "amount", {"min_value": 0, "strict_min": True}
        ),
        ex.ExpectationSpec("email", "", "match_regex", "email", {"regex": "x"}),
    ]
    ex.import_gx()
    from great_expectations.data_context.store.expectations_store import ExpectationsStore

    writes: list[str] = []
    real_add, real_add_exp = ExpectationsStore.add, ExpectationsStore.add_expectation

    def add(self, key, value, **kw):
        writes.append(f"add {value.name} ({len(value.expectations)})")
        return real_add(self, key, value, **kw)

    def add_expectation(self, suite, expectation):
        writes.append(f"add_expectation {suite.name}")
        return real_add_exp(self, suite, expectation)

    mp = pytest.MonkeyPatch()
    mp.setattr(ExpectationsStore, "add", add)
    mp.setattr(ExpectationsStore, "add_expectation", add_expectation)
    try:
        run = ex.validate_sql(wh.url, {"batch": "quality.batch"}, {"batch": specs}, tmp_path / "docs", "r1")
    finally:
        mp.undo()
    assert writes == ["add batch (4)"]
    got = {r["spec_index"]: (r["check"], r["unexpected"]) for r in run.summary}
    assert got == {0: ("key_integrity", 0), 1: ("key_integrity", 2), 2: ("amount", 1), 3: ("email", 1)}
    page = (tmp_path / "docs" / "expectations" / "batch.html").read_text()
    for name in ("expect_column_values_to_not_be_null", "expect_column_values_to_be_unique"):
        assert name.replace("expect_", "").split("_")[0] in page
    assert run.data_docs_index is not None and run.data_docs_index.is_file()
