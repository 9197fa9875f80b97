"""Fault injection on the Salesforce REST extract: no silent loss.

Issue 11 (5): a page that repeats the previous page lost 5 records while the run succeeded.
Issue 11 (6): a record committed in the same second as the window's upper bound was never loaded.
Runs the real extract-load path against t13's stateful fake org on 127.0.0.1 (tests/fakes).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.fakes.fixtures import opportunity, seed_opportunities
from tests.fakes.salesforce_api import FakeSalesforce, sf_datetime
from tests.fixtures.http_replay import FIXTURES, replay_session

from salesops.config import get_object
from salesops.ingest.pipeline import extract_and_load
from salesops.ingest.watermarks import get_watermark
from salesops.sources.base import SourceError
from salesops.sources.salesforce import SalesforceClient, SalesforceSource
from salesops.warehouse import Warehouse

pytestmark = pytest.mark.faults
OPP = get_object("opportunity")


def _source(fake: FakeSalesforce) -> SalesforceSource:
    client = SalesforceClient(fake.url, access_token=fake.issue_token(), sleep=lambda s: None)
    return SalesforceSource(client, page_size=200)


@pytest.fixture()
def wh(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESOPS_DATA_DIR", str(tmp_path / "data"))
    w = Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    yield w
    w.dispose()


def _staged_ids(wh: Warehouse) -> set[str]:
    if not wh.table_exists(OPP.staging_table):
        return set()
    return {r["id"] for r in wh.query(f"select id from {OPP.staging_table}")}


def test_repeated_page_fails_the_load_and_nothing_is_lost(fake_sf, wh):
    ids = seed_opportunities(fake_sf, 450)
    fake_sf.repeat_next_page()
    with pytest.raises(SourceError, match=r"page 2: record '006FK\d+AAA' was already returned on page 1"):
        extract_and_load(_source(fake_sf), ["opportunity"], wh)
    assert get_watermark(wh, OPP, "salesforce") is None  # the window is read again next time
    assert _staged_ids(wh) == set()
    # The re-run (no fault) loads everything: nothing lost.
    extract_and_load(_source(fake_sf), ["opportunity"], wh)
    assert _staged_ids(wh) == set(ids)


def test_late_commit_at_the_window_bound_is_loaded_by_the_next_window(fake_sf, wh):
    ids = seed_opportunities(fake_sf, 20)
    extract_and_load(_source(fake_sf), ["opportunity"], wh)
    mark = get_watermark(wh, OPP, "salesforce")
    assert mark is not None and mark <= fake_sf.clock - timedelta(seconds=60)  # settle time
    # A transaction that started before the window was read commits a record stamped exactly at
    # the window's upper bound, after the read.
    late = fake_sf.insert("Opportunity", [opportunity(999, mark)], stamp=mark)
    fake_sf.tick(timedelta(minutes=5))
    extract_and_load(_source(fake_sf), ["opportunity"], wh)
    assert _staged_ids(wh) == set(ids) | set(late)
    stamp = wh.scalar(f"select max(system_modstamp) from {OPP.staging_table} where id = :i", {"i": late[0]})
    assert sf_datetime(stamp.replace(tzinfo=mark.tzinfo)) == sf_datetime(mark)


def test_overlap_rereads_the_boundary_and_the_loader_keeps_the_latest(fake_sf, wh):
    seed_opportunities(fake_sf, 5)
    extract_and_load(_source(fake_sf), ["opportunity"], wh)
    rid = next(iter(fake_sf.live("Opportunity")))
    fake_sf.tick(timedelta(minutes=5))
    fake_sf.update("Opportunity", rid, StageName="Closed Won")
    fake_sf.tick(timedelta(minutes=5))
    extract_and_load(_source(fake_sf), ["opportunity"], wh)
    extract_and_load(_source(fake_sf), ["opportunity"], wh)  # overlaps the previous window
    rows = wh.query(f"select stage_name from {OPP.staging_table} where id = :i", {"i": rid})
    assert rows == [{"stage_name": "Closed Won"}]
    assert wh.scalar(f"select count(*) from {OPP.staging_table}") == 5


def _replay_source(pages):
    session, adapter = replay_session(FIXTURES / "salesforce")
    adapter.add("GET", "/services/data/v62.0/sobjects/Opportunity/describe", "describe_Opportunity.json")
    adapter.add("GET", "/services/data/v62.0/query", pages[0])
    for i, page in enumerate(pages[1:], start=2):
        adapter.add("GET", f"/services/data/v62.0/query/01g-{i}", page)
    return SalesforceSource(
        SalesforceClient("https://synthetic.my.salesforce.com", access_token="t", session=session)
    )


def _rec(i: int, stamp: str) -> dict:
    return {"Id": f"006FK{i:010d}AAA", "SystemModstamp": stamp}


def test_out_of_order_page_fails():
    src = _replay_source(
        [
            {
                "totalSize": 3,
                "done": False,
                "nextRecordsUrl": "/services/data/v62.0/query/01g-2",
                "records": [_rec(1, "2026-10-05T10:00:00.000+0000"), _rec(2, "2026-10-05T11:00:00.000+0000")],
            },
            {"totalSize": 3, "done": True, "records": [_rec(3, "2026-10-05T09:00:00.000+0000")]},
        ]
    )
    with pytest.raises(
        SourceError, match="page 2: record '006FK0000000003AAA' .* not in the requested order"
    ):
        list(src.read_changes("Opportunity", ["SystemModstamp"], "SystemModstamp", None, _until()))


def test_fewer_records_than_total_size_fails():
    src = _replay_source(
        [{"totalSize": 5, "done": True, "records": [_rec(1, "2026-10-05T10:00:00.000+0000")]}]
    )
    with pytest.raises(SourceError, match="totalSize said 5 records, 1 pages returned 1 distinct records"):
        list(src.read_changes("Opportunity", ["SystemModstamp"], "SystemModstamp", None, _until()))


def _until():
    from datetime import UTC, datetime

    return datetime(2026, 10, 8, tzinfo=UTC)
