"""The load path on a small in-memory source: counts, incrementals, quarantine, crashes, drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.support.faults import crash_load_after

from salesops.as_of import data_as_of as as_of
from salesops.ingest.extract import extract_batch
from salesops.ingest.load import load_batch
from salesops.ingest.pipeline import extract_and_load
from salesops.sources.base import DeletedRecord
from salesops.warehouse import Warehouse


@pytest.fixture(autouse=True)
def _quarantine_anything(monkeypatch):
    """These tiny batches are mostly malformed on purpose: they test quarantine itself, not the
    load guard on the quarantined share (tests/unit/test_foreign_crm.py tests that)."""
    monkeypatch.setenv("SALESOPS_MAX_QUARANTINE_SHARE", "1")


T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _stamp(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class FakeSource:
    """Records as an API returns them (dicts of JSON values) with a movable clock."""

    name = "fake"

    def __init__(self) -> None:
        self.clock = T0
        self.records: dict[str, dict[str, dict]] = {"Opportunity": {}}
        self.deleted: list[tuple[str, DeletedRecord]] = []
        self.page_size = 2

    def upsert(self, rec: dict, at: datetime | None = None) -> None:
        rec = dict(rec)
        rec["SystemModstamp"] = _stamp(at or self.clock)
        self.records["Opportunity"][rec["Id"]] = rec

    def delete(self, rid: str) -> None:
        self.records["Opportunity"].pop(rid)
        self.deleted.append(("Opportunity", DeletedRecord(rid, self.clock)))

    def server_time(self) -> datetime:
        return self.clock

    def read_changes(self, api_name, fields, cursor, since, until):
        def ts(r):
            return datetime.strptime(r[cursor], "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC)

        rows = [
            {k: v for k, v in r.items() if k in fields or k.endswith("__x")}
            for r in sorted(self.records.get(api_name, {}).values(), key=lambda r: (r[cursor], r["Id"]))
            if (since is None or ts(r) > since) and ts(r) <= until
        ]
        for i in range(0, len(rows), self.page_size):
            yield rows[i : i + self.page_size]

    def read_deleted(self, api_name, since, until):
        return [
            d
            for a, d in self.deleted
            if a == api_name and (since is None or d.deleted_at > since) and d.deleted_at <= until
        ]


def opp(i: int, **kw) -> dict:
    base = {
        "Id": f"006{i:015d}",
        "Name": f"Demo Deal {i}",
        "StageName": "Qualification",
        "Amount": 1000.0 * i,
        "Probability": 20,
        "CloseDate": "2026-12-31",
        "IsClosed": False,
        "CreatedDate": "2026-10-01T10:00:00.000+0000",
    }
    base.update(kw)
    return base


@pytest.fixture()
def wh(tmp_path):
    w = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    yield w
    w.dispose()


@pytest.fixture()
def src():
    s = FakeSource()
    for i in range(1, 6):
        s.upsert(opp(i), at=T0 - timedelta(days=10 - i))
    return s


def staged(wh: Warehouse) -> dict[str, dict]:
    return {r["id"]: r for r in wh.query("select * from staging.stg_crm__opportunity")}


def snapshot(wh: Warehouse) -> dict:
    """Everything a load touches, for before/after comparison (batch timestamps excluded)."""
    return {
        "raw": wh.query(
            'select "Id", "Amount", _batch_id, _row_number from raw.crm__opportunity order by 1, 3'
        ),
        "staging": wh.query("select * exclude (_loaded_at) from staging.stg_crm__opportunity order by id"),
        "quarantine": wh.query(
            "select batch_id, record_id, field, value, reason from ops.quarantine order by 1,2,3"
        ),
        "watermark": wh.query("select object, watermark from ops.load_watermark order by 1"),
    }


def test_first_load_types_every_field_and_counts(wh, src):
    [res] = extract_and_load(src, ["opportunity"], wh)
    assert (res.rows_read, res.rows_inserted, res.rows_updated, res.rows_rejected) == (5, 5, 0, 0)
    rows = staged(wh)
    assert len(rows) == 5
    r3 = rows["006000000000000003"]
    assert r3["amount"] == 3000 and str(r3["close_date"]) == "2026-12-31" and r3["is_closed"] is False
    assert r3["probability"] == 20.0 and r3["created_at"] == datetime(2026, 10, 1, 10, 0)
    audit = wh.query("select status, rows_read, rows_inserted from ops.load_audit")
    assert audit == [{"status": "loaded", "rows_read": 5, "rows_inserted": 5}]
    assert as_of(wh) == T0


def test_second_run_reads_nothing_and_increment_is_exact(wh, src):
    extract_and_load(src, ["opportunity"], wh)
    [again] = extract_and_load(src, ["opportunity"], wh)
    assert (again.rows_read, again.rows_inserted, again.rows_updated) == (0, 0, 0)

    src.clock = T0 + timedelta(hours=1)
    src.upsert(opp(2, StageName="Closed Won", IsClosed=True, Amount=2500))
    src.upsert(opp(9))
    src.delete("006000000000000004")
    [inc] = extract_and_load(src, ["opportunity"], wh)
    assert (inc.rows_read, inc.rows_inserted, inc.rows_updated, inc.rows_deleted) == (2, 1, 1, 1)
    rows = staged(wh)
    assert sorted(rows) == [
        "006000000000000001",
        "006000000000000002",
        "006000000000000003",
        "006000000000000005",
        "006000000000000009",
    ]
    assert (
        rows["006000000000000002"]["stage_name"] == "Closed Won"
        and rows["006000000000000002"]["amount"] == 2500
    )
    assert wh.scalar("select count(*) from raw.deleted_records") == 1


def test_a_replayed_older_version_changes_nothing_and_staging_keeps_one_row_per_id(wh, src):
    """The merge replaces a changed record's row (delete + insert of the whole new row): an older
    or equal version of a staged record is counted unchanged and leaves its row as it was, a newer
    one replaces it, and staging never holds two rows for one id."""
    extract_and_load(src, ["opportunity"], wh)
    before = staged(wh)
    src.clock = T0 + timedelta(hours=1)
    src.upsert(opp(3, Amount=3333))  # newer: replaces
    older = opp(1, Amount=1)  # an older version of record 1, replayed by the API
    older["SystemModstamp"] = _stamp(T0 - timedelta(days=20))
    same = dict(src.records["Opportunity"]["006000000000000002"], Amount=2)  # same stamp as staged
    newer = dict(src.records["Opportunity"]["006000000000000003"])
    src.read_changes = lambda *a, **k: iter([[older, same, newer, opp(7, SystemModstamp=_stamp(src.clock))]])
    [res] = extract_and_load(src, ["opportunity"], wh)
    assert (res.rows_read, res.rows_inserted, res.rows_updated, res.rows_unchanged) == (4, 1, 1, 2)
    rows = staged(wh)
    assert wh.scalar("select count(*) - count(distinct id) from staging.stg_crm__opportunity") == 0
    assert sorted(rows) == sorted([*before, "006000000000000007"])
    for rid in ("006000000000000001", "006000000000000002", "006000000000000004", "006000000000000005"):
        assert rows[rid] == before[rid]
    assert rows["006000000000000003"]["amount"] == 3333
    assert (
        rows["006000000000000003"]["_batch_id"] == res.batch_id != before["006000000000000003"]["_batch_id"]
    )
    assert rows["006000000000000003"]["name"] == "Demo Deal 3"


def test_malformed_rows_are_quarantined_with_reasons_and_the_rest_loads(wh, src):
    src.upsert(opp(7, Amount="12,5OO.00"))
    src.upsert(opp(8, CloseDate="2026-13-45", CreatedDate="yesterday"))
    rec = opp(10)
    src.upsert(rec)
    src.records["Opportunity"]["006000000000000010"]["SystemModstamp"] = src.records["Opportunity"][
        "006000000000000001"
    ]["SystemModstamp"]
    bad_id = opp(11)
    bad_id["Id"] = ""
    src.upsert(bad_id)
    [res] = extract_and_load(src, ["opportunity"], wh)
    assert res.rows_read == 9
    assert res.rows_rejected == 3
    assert res.rows_inserted == 6
    q = wh.query("select record_id, field, value, reason from ops.quarantine order by record_id, field")
    assert q == [
        {"record_id": "", "field": "Id", "value": "", "reason": "missing required field Id (batch row 7)"},
        {
            "record_id": "006000000000000007",
            "field": "Amount",
            "value": "12,5OO.00",
            "reason": "cannot parse '12,5OO.00' as decimal: expected a number such as 1234.5 "
            "(no thousands separator, no currency)",
        },
        {
            "record_id": "006000000000000008",
            "field": "CloseDate",
            "value": "2026-13-45",
            "reason": "cannot parse '2026-13-45' as date: expected a date as YYYY-MM-DD",
        },
        {
            "record_id": "006000000000000008",
            "field": "CreatedDate",
            "value": "yesterday",
            "reason": "cannot parse 'yesterday' as timestamp: expected an ISO 8601 date-time such as "
            "2026-11-01T10:00:00Z",
        },
    ]
    assert "006000000000000007" not in staged(wh)
    # raw keeps what was extracted, bad rows included
    assert wh.scalar("select count(*) from raw.crm__opportunity") == 9


@pytest.mark.parametrize("step", ["raw", "quarantine", "merge", "deletes"])
def test_crash_mid_load_leaves_nothing_half_written_and_rerun_matches_clean_run(tmp_path, src, step):
    clean = Warehouse(f"duckdb:///{tmp_path / 'clean.duckdb'}")
    crashy = Warehouse(f"duckdb:///{tmp_path / 'crashy.duckdb'}")
    src.upsert(opp(7, Amount="n/a"))
    extract_and_load(src, ["opportunity"], clean)
    extract_and_load(src, ["opportunity"], crashy)
    src.clock += timedelta(hours=1)
    src.upsert(opp(3, Amount=99))
    src.delete("006000000000000005")
    extract_and_load(src, ["opportunity"], clean, run_id="clean")

    before = snapshot(crashy)
    batch = extract_batch(src, "opportunity", crashy)
    with crash_load_after(step) as ran, pytest.raises(RuntimeError, match=f"simulated crash after {step}"):
        load_batch(crashy, batch)
    assert "load/insert_raw.sql" in ran  # the crash came inside the apply transaction
    assert snapshot(crashy) == before  # rolled back whole
    load_batch(crashy, batch)  # the retry
    load_batch(crashy, batch)  # and once more: idempotent
    a, b = snapshot(clean), snapshot(crashy)
    assert (
        a["staging"] == b["staging"]
        and a["quarantine"] == b["quarantine"]
        and a["watermark"] == b["watermark"]
    )
    assert [(r["Id"], r["Amount"]) for r in a["raw"]] == [(r["Id"], r["Amount"]) for r in b["raw"]]


def test_schema_drift_is_reported_not_fatal(wh, src):
    extract_and_load(src, ["opportunity"], wh)
    src.clock += timedelta(hours=1)
    changed = opp(1, Amount=4242)
    del changed["Probability"]  # the source stopped sending a field
    changed["Region_Override__x"] = "EMEA"  # and started sending a new one
    src.upsert(changed)
    [res] = extract_and_load(src, ["opportunity"], wh)
    assert res.schema_added == ["Region_Override__x"]
    assert "Probability" in res.schema_missing
    row = staged(wh)["006000000000000001"]
    assert row["amount"] == 4242
    assert row["probability"] == 20.0  # not blanked by a field the batch did not carry
    assert (
        wh.scalar(
            'select "Region_Override__x" from raw.crm__opportunity where "Region_Override__x" is not null'
        )
        == "EMEA"
    )
    audit = wh.query("select schema_added, schema_missing from ops.load_audit where rows_read = 1")
    assert audit[0]["schema_added"] == "Region_Override__x" and "Probability" in audit[0]["schema_missing"]


def test_two_versions_of_a_record_in_one_batch_latest_wins(wh, src):
    src.records["Opportunity"].clear()
    src.upsert(opp(1, Amount=1), at=T0 - timedelta(hours=2))
    rec = opp(1, Amount=2)
    rec["SystemModstamp"] = _stamp(T0 - timedelta(hours=1))
    # simulate an API that returned both versions (e.g. a replayed page)
    src.read_changes = lambda *a, **k: iter(
        [[opp(1, Amount=1, SystemModstamp=_stamp(T0 - timedelta(hours=2))), rec]]
    )
    [res] = extract_and_load(src, ["opportunity"], wh)
    assert res.rows_inserted == 1
    assert staged(wh)["006000000000000001"]["amount"] == 2


def test_a_locked_warehouse_file_is_waited_for_not_failed(tmp_path):
    """DuckDB allows one writing process per file: another process's lock makes us wait, then proceed."""
    import subprocess
    import sys
    import time as _time

    path = tmp_path / "locked.duckdb"
    wh = Warehouse(f"duckdb:///{path}", lock_timeout_s=30)
    wh.execute("create table t as select 1 as a")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(3)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    t0 = _time.monotonic()
    assert wh.table_exists("t") and wh.scalar("select a from t") == 1
    assert _time.monotonic() - t0 > 1.0  # it did wait for the other process
    holder.wait(10)

    short = Warehouse(f"duckdb:///{path}", lock_timeout_s=0.5)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(4)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(Exception, match="lock"):
        short.scalar("select a from t")
    holder.wait(10)


class RepeatingSource(FakeSource):
    """A source whose read returns some records twice in one batch (an overlap re-read, a
    repeated API page the connector let through): the loader keeps the latest version per id."""

    def __init__(self, repeats: list[dict]) -> None:
        super().__init__()
        self.repeats = repeats

    def read_changes(self, api_name, fields, cursor, since, until):
        yield from super().read_changes(api_name, fields, cursor, since, until)
        yield [dict(r) for r in self.repeats]


def test_duplicates_in_a_batch_are_counted_in_the_audit(wh, src):
    extract_and_load(src, ["opportunity"], wh)  # staging not empty: the MERGE path
    older = dict(src.records["Opportunity"]["006000000000000002"], Amount=1.0)
    older["SystemModstamp"] = _stamp(T0 - timedelta(days=30))  # an older version of a staged id
    new = opp(9)
    rep = RepeatingSource([older, dict(opp(9), SystemModstamp=_stamp(T0 - timedelta(hours=1)))])
    rep.records = src.records
    rep.clock = T0 + timedelta(hours=1)
    rep.upsert(new, at=T0 + timedelta(minutes=30))  # id 9: in the batch twice, the later one wins
    rep.upsert(dict(opp(2), Amount=7.0), at=T0 + timedelta(minutes=10))  # id 2: twice too
    [res] = extract_and_load(rep, ["opportunity"], wh)
    assert (res.rows_read, res.rows_inserted, res.rows_updated, res.rows_unchanged) == (4, 1, 1, 0)
    assert res.rows_duplicates == 2 and res.rows_rejected == 0
    assert res.rows_read == (
        res.rows_inserted + res.rows_updated + res.rows_unchanged + res.rows_rejected + res.rows_duplicates
    )
    audit = wh.query(
        "select rows_read, rows_inserted, rows_updated, rows_duplicates from ops.load_audit "
        "where batch_id = :b",
        {"b": res.batch_id},
    )
    assert audit == [{"rows_read": 4, "rows_inserted": 1, "rows_updated": 1, "rows_duplicates": 2}]
    rows = staged(wh)
    assert rows["006000000000000002"]["amount"] == 7 and rows["006000000000000009"]["amount"] == 9000


def test_first_load_with_duplicates_counts_them(wh):
    rep = RepeatingSource([dict(opp(1), SystemModstamp=_stamp(T0 - timedelta(days=3)))])
    rep.upsert(opp(1), at=T0 - timedelta(days=1))
    rep.upsert(opp(2), at=T0 - timedelta(days=1))
    [res] = extract_and_load(rep, ["opportunity"], wh)
    assert (res.rows_read, res.rows_inserted, res.rows_duplicates) == (3, 2, 1)
    assert wh.scalar("select rows_duplicates from ops.load_audit") == 1


def test_an_audit_table_from_before_the_duplicates_column_is_migrated_in_place(wh, src):
    """Warehouses created before ops.load_audit had rows_duplicates keep their history."""
    wh.execute_script(
        "create schema if not exists ops;"
        "create table ops.load_audit (batch_id varchar not null primary key, object varchar not null, "
        "source varchar not null, since timestamp, until timestamp not null, status varchar not null, "
        "rows_read bigint, rows_inserted bigint, rows_updated bigint, rows_unchanged bigint, "
        "rows_deleted bigint, rows_rejected bigint, schema_added varchar, schema_missing varchar, "
        "started_at timestamp, finished_at timestamp, run_id varchar, error varchar);"
        "insert into ops.load_audit (batch_id, object, source, until, status, rows_read) "
        "values ('old_batch', 'opportunity', 'fake', '2026-01-01', 'loaded', 42);"
    )
    [res] = extract_and_load(src, ["opportunity"], wh)
    rows = wh.query("select batch_id, rows_read, rows_duplicates from ops.load_audit order by batch_id")
    assert rows == [
        {"batch_id": "old_batch", "rows_read": 42, "rows_duplicates": None},
        {"batch_id": res.batch_id, "rows_read": 5, "rows_duplicates": 0},
    ]


def _ddl_statements(wh: Warehouse, fn) -> list[str]:
    """The DDL statements on persistent objects (create/alter/drop, not the load's temporary
    tables) the warehouse runs while ``fn()`` runs."""
    import sqlalchemy as sa

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        text = statement.lstrip().lower()
        if text.startswith(("create", "alter", "drop")) and "temporary" not in text.split(" as", 1)[0]:
            seen.append(statement)

    sa.event.listen(wh.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        sa.event.remove(wh.engine, "before_cursor_execute", record)
    return seen


def test_table_definitions_run_once_and_again_when_a_table_or_column_went_missing(wh, src, monkeypatch):
    """Issue 17: extract and load each ensured the tables with some twenty DDL statements per
    object (0.15 CPU-s each time). Applied definitions are now recorded (a digest in the staging
    table's comment) and
    skipped, unless a table or manifest column is gone or the definitions changed."""
    from salesops import sql as sqlfiles
    from salesops.config import get_object
    from salesops.warehouse.schema import ensure_object_tables

    obj = get_object("opportunity")
    [first] = extract_and_load(src, ["opportunity"], wh)
    assert first.rows_inserted == 5
    assert _ddl_statements(wh, lambda: ensure_object_tables(wh, [obj])) == []
    src.clock = T0 + timedelta(hours=1)
    src.upsert(opp(6))
    assert _ddl_statements(wh, lambda: extract_and_load(src, ["opportunity"], wh)) == []

    # a staging column dropped by hand (an older warehouse): added back as the manifest has it
    wh.execute("alter table staging.stg_crm__opportunity drop column amount")
    assert _ddl_statements(wh, lambda: ensure_object_tables(wh, [obj]))
    assert "amount" in wh.columns("staging.stg_crm__opportunity")
    # a shared ops table gone: created again
    wh.execute("drop table ops.quarantine")
    ensure_object_tables(wh, [obj])
    assert wh.table_exists("ops.quarantine")
    # changed definitions (a new version of create_tables.sql): applied again
    render = sqlfiles.render
    monkeypatch.setattr(
        sqlfiles,
        "render",
        lambda relpath, **kw: (
            render(relpath, **kw)
            + (
                "\nalter table ops.load_audit add column if not exists probe varchar;"
                if relpath == "load/create_tables.sql"
                else ""
            )
        ),
    )
    ensure_object_tables(wh, [obj])
    assert "probe" in wh.columns("ops.load_audit")


def test_catalog_lookups_answer_as_reflection_does(wh):
    """Warehouse.columns / table_exists read DuckDB's information_schema (reflection through
    duckdb_engine cost ~0.1 CPU-s per call): same answers, including views and missing tables."""
    import sqlalchemy as sa

    wh.execute_script(
        "create schema if not exists ops; create table ops.t (b integer, A varchar, c date);"
        "create view ops.v as select b, c from ops.t"
    )
    with wh.connect() as conn:
        insp = sa.inspect(conn)
        assert (
            wh.columns("ops.t") == [c["name"] for c in insp.get_columns("t", schema="ops")] == ["b", "A", "c"]
        )
        assert wh.columns("ops.v") == ["b", "c"]
    assert wh.table_exists("ops.t") and wh.table_exists("ops.v") and wh.table_exists("OPS.T")
    assert not wh.table_exists("ops.missing") and not wh.table_exists("staging.t")
    with pytest.raises(sa.exc.NoSuchTableError):
        wh.columns("ops.missing")


def test_a_warehouse_file_another_process_is_creating_is_waited_for(tmp_path):
    """Two tasks of a fresh warehouse's first run start together on two workers (the Celery stack):
    one creates the DuckDB file, the other opens it before its headers are written and DuckDB says
    "not a valid DuckDB database file". The second waits like for a lock; a file past the headers
    that is not a database still fails at once."""
    import threading
    import time as _time

    path = tmp_path / "fresh.duckdb"
    path.write_bytes(b"\0" * 100)  # the other process's file, headers not written yet

    def creator_finishes() -> None:
        _time.sleep(0.5)
        import duckdb

        path.unlink()
        duckdb.connect(str(path)).close()

    t = threading.Thread(target=creator_finishes)
    t.start()
    wh = Warehouse(f"duckdb:///{path}", lock_timeout_s=30)
    assert wh.scalar("select 41 + 1") == 42
    t.join()

    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database" * 2000)  # 28 kB: past the headers
    t0 = _time.monotonic()
    with pytest.raises(Exception, match="not a valid DuckDB database file"):
        Warehouse(f"duckdb:///{broken}", lock_timeout_s=30).scalar("select 1")
    assert _time.monotonic() - t0 < 5
