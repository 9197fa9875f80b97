"""Salesforce at volume against the stateful fake org: Bulk API 2.0, resume, deletes, budget.

Every expectation is read from the fake org's own state (its records, jobs and call log), never
from what the connector reported.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.fakes.fixtures import opportunity, seed_opportunities
from tests.fakes.salesforce_api import FakeSalesforce

from salesops.ingest.extract import extract_batch
from salesops.ingest.load import load_batch
from salesops.ingest.pipeline import extract_and_load
from salesops.sources.base import SourceError
from salesops.sources.http import ApiError
from salesops.sources.salesforce import SalesforceClient
from salesops.sources.salesforce_bulk import ApiBudgetExceeded, SalesforceVolumeSource
from salesops.warehouse import Warehouse

OBJ = "opportunity"


@pytest.fixture()
def wh(tmp_path):
    w = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    yield w
    w.dispose()


def source(fake: FakeSalesforce, **volume) -> SalesforceVolumeSource:
    volume = {"bulk_threshold": 500, "bulk_page_records": 300, "poll_initial_seconds": 0.01, **volume}
    client = SalesforceClient(fake.url, access_token=fake.issue_token(), sleep=lambda s: None, max_attempts=2)
    src = SalesforceVolumeSource(client, page_size=200, **volume)
    # These tests pin the window to the Date header; the settle time and the look-back overlap
    # (include/config/sources/salesforce.yaml) are tested in tests/faults/test_extract_faults.py.
    src.settle = src.overlap = timedelta(0)
    return src


def staged(wh: Warehouse) -> dict[str, float]:
    return {
        r["id"]: float(r["amount"]) for r in wh.query("select id, amount from staging.stg_crm__opportunity")
    }


def live(fake: FakeSalesforce) -> dict[str, float]:
    return {k: float(v["Amount"]) for k, v in fake.live("Opportunity").items()}


def audit(wh: Warehouse) -> list[dict]:
    return wh.query(
        "select status, rows_read, rows_deleted, api_calls, extract_method, ids_reconciled, "
        "rows_reconciled_deleted, formulas_refreshed, warning from ops.load_audit order by until"
    )


def test_first_sync_above_threshold_uses_one_bulk_queryall_job(fake_sf, wh, tmp_path):
    seed_opportunities(fake_sf, 1050)
    src = source(fake_sf)
    calls_before = fake_sf.api_used
    [res] = extract_and_load(src, [OBJ], wh)
    assert staged(wh) == live(fake_sf) and len(live(fake_sf)) == 1050
    assert res.rows_inserted == 1050
    # one queryAll job, pages of maxRecords=300 followed by their Sforce-Locator, then deleted
    assert fake_sf.jobs == {}  # the finished job was deleted
    assert fake_sf.calls_to(r"/jobs/query$") == 1 and fake_sf.calls_to(r"/results$") == 4
    [row] = audit(wh)
    assert row["extract_method"] == "bulk" and row["rows_read"] == 1050
    assert row["api_calls"] == fake_sf.api_used - calls_before - 1  # minus the server_time /limits call
    parts = (
        sorted((tmp_path / "landing").glob("**/part-*.parquet")) if (tmp_path / "landing").exists() else []
    )
    assert parts == [] or len(parts) == 4


def test_small_incremental_window_stays_on_rest_and_reads_deletes(fake_sf, wh):
    ids = seed_opportunities(fake_sf, 600)
    src = source(fake_sf)
    extract_and_load(src, [OBJ], wh)
    fake_sf.tick(timedelta(hours=1))
    fake_sf.update("Opportunity", ids[1], Amount=4321.0)
    fake_sf.delete("Opportunity", ids[2])
    fake_sf.tick()
    extract_and_load(source(fake_sf), [OBJ], wh)
    assert staged(wh) == live(fake_sf)
    assert ids[2] not in staged(wh) and staged(wh)[ids[1]] == 4321.0
    # no Bulk job read the 1-record window (the only new job is the id reconciliation's "query")
    assert [op for op, _ in fake_sf.jobs_created] == ["queryAll", "query"]
    assert fake_sf.jobs_created[1][1] == "SELECT Id FROM Opportunity"
    assert [r["extract_method"] for r in audit(wh)] == ["bulk", "rest"]
    assert audit(wh)[1]["rows_deleted"] == 1


def test_bulk_window_deletes_come_from_queryall_isdeleted(fake_sf, wh):
    ids = seed_opportunities(fake_sf, 600)
    extract_and_load(source(fake_sf), [OBJ], wh)
    fake_sf.tick(timedelta(hours=1))
    for rid in ids[:3]:
        fake_sf.delete("Opportunity", rid)
    for i, rid in enumerate(ids[10:520]):
        fake_sf.update("Opportunity", rid, Amount=float(i))
    fake_sf.tick()
    getdeleted_before = fake_sf.calls_to(r"/deleted$")
    extract_and_load(source(fake_sf), [OBJ], wh)
    assert staged(wh) == live(fake_sf) and not set(ids[:3]) & set(staged(wh))
    assert fake_sf.calls_to(r"/deleted$") == getdeleted_before  # queryAll covered the window's deletes
    assert audit(wh)[1]["extract_method"] == "bulk" and audit(wh)[1]["rows_deleted"] == 3


def test_resume_after_a_crash_mid_job_continues_from_the_last_locator(fake_sf, wh):
    seed_opportunities(fake_sf, 1050)
    # the third result page fails for good (non-retryable): the task crashes after 2 landed pages
    fake_sf.fail_next(r"/results$", 400, [{"errorCode": "CLIENT_CRASH_SIMULATED"}], skip=2)
    with pytest.raises(ApiError, match="CLIENT_CRASH_SIMULATED"):
        extract_batch(source(fake_sf), OBJ, wh)
    assert not wh.table_exists("ops.load_audit") or wh.scalar("select count(*) from ops.load_audit") == 0
    [job] = fake_sf.jobs.values()
    assert job.results_served == [None, "MzAw"]
    fake_sf.tick(timedelta(minutes=5))  # the retry runs later; the window stays the crashed one
    batch = extract_batch(source(fake_sf), OBJ, wh)  # a new process: a fresh source object
    load_batch(wh, batch)
    assert fake_sf.calls_to(r"/jobs/query$") == 1  # no second job
    assert job.results_served == [None, "MzAw", "NjAw", "OTAw"]  # pages 1-2 not downloaded again
    assert staged(wh) == live(fake_sf)
    assert sorted(
        wh.query("select _row_number from raw.crm__opportunity")[i]["_row_number"] for i in range(3)
    ) == [
        1,
        2,
        3,
    ]
    assert wh.scalar("select count(distinct _row_number) from raw.crm__opportunity") == 1050


def test_deletes_beyond_15_days_are_found_by_id_reconciliation(fake_sf, wh):
    ids = seed_opportunities(fake_sf, 40)
    extract_and_load(source(fake_sf), [OBJ], wh)
    fake_sf.delete("Opportunity", ids[7])
    fake_sf.tick(timedelta(days=3))
    fake_sf.update("Opportunity", ids[8], Amount=1.0)
    fake_sf.tick(timedelta(days=18))  # paused 3 weeks: the delete is purged from the org's log
    assert ids[7] not in fake_sf.objects["Opportunity"].records
    extract_and_load(source(fake_sf), [OBJ], wh)
    assert staged(wh) == live(fake_sf) and ids[7] not in staged(wh) and staged(wh)[ids[8]] == 1.0
    last = audit(wh)[-1]
    assert (
        last["ids_reconciled"] is True and last["rows_reconciled_deleted"] == 1 and last["rows_deleted"] == 1
    )
    assert wh.scalar("select count(*) from raw.deleted_records where id = :i", {"i": ids[7]}) == 1


def test_weekly_reconciliation_runs_on_its_cadence_only(fake_sf, wh):
    seed_opportunities(fake_sf, 10)
    extract_and_load(source(fake_sf), [OBJ], wh)  # first sync: nothing to reconcile
    fake_sf.tick(timedelta(days=1))
    extract_and_load(source(fake_sf), [OBJ], wh)  # never reconciled -> due
    fake_sf.tick(timedelta(days=1))
    extract_and_load(source(fake_sf), [OBJ], wh)  # 1 day later: not due
    fake_sf.tick(timedelta(days=7))
    extract_and_load(source(fake_sf), [OBJ], wh)  # a week later: due again
    assert [r["ids_reconciled"] for r in audit(wh)] == [False, True, False, True]


def test_budget_stop_fails_cleanly_and_the_next_run_resumes(fake_sf, wh):
    seed_opportunities(fake_sf, 1050)
    fake_sf.api_max, fake_sf.api_used = 1000, 795  # 80% share = 800 calls
    with pytest.raises(ApiBudgetExceeded, match=r"used 800 of 1000 daily API calls.*80% \(800\)"):
        extract_batch(source(fake_sf), OBJ, wh)
    assert fake_sf.api_used <= 801  # stopped at the share, not at the org's hard limit
    assert wh.scalar("select count(*) from ops.load_audit") == 0
    fake_sf.api_used = 0  # a new day
    extract_and_load(source(fake_sf), [OBJ], wh)
    assert staged(wh) == live(fake_sf)


def test_query_timeout_fails_the_task(fake_sf, wh):
    seed_opportunities(fake_sf, 20)
    fake_sf.query_timeout_next()
    with pytest.raises(ApiError, match="QUERY_TIMEOUT"):
        extract_and_load(source(fake_sf), [OBJ], wh)
    assert wh.scalar("select count(*) from ops.load_audit") == 0


def test_bulk_job_failure_fails_the_task_with_salesforces_message(fake_sf, wh):
    seed_opportunities(fake_sf, 600)
    fake_sf.fail_next_job("InvalidBatch : Failed to process query: QUERY_TIMEOUT")
    with pytest.raises(SourceError, match=r"ended Failed: InvalidBatch .*QUERY_TIMEOUT"):
        extract_batch(source(fake_sf), OBJ, wh)
    assert wh.scalar("select count(*) from ops.load_audit") == 0


def test_a_job_that_never_finishes_is_aborted(fake_sf, wh):
    seed_opportunities(fake_sf, 600)
    fake_sf.poll_steps = 10_000
    with pytest.raises(SourceError, match="still not finished"):
        extract_batch(source(fake_sf, poll_timeout_seconds=0.2, poll_max_seconds=0.05), OBJ, wh)
    [job] = fake_sf.jobs.values()
    assert job.state == "Aborted"


@pytest.mark.parametrize("threshold", [10_000, 100], ids=["rest", "bulk"])
def test_records_sharing_one_systemmodstamp_across_page_and_window_boundaries(fake_sf, wh, threshold):
    seed_opportunities(fake_sf, 5)
    fake_sf.tick(timedelta(milliseconds=600))  # the org's clock is mid-second; Date says the second
    stamp = fake_sf.clock - timedelta(seconds=30)
    # 650 records with one SystemModstamp: across REST pages of 200 and Bulk pages of 300
    fake_sf.insert("Opportunity", [opportunity(1000 + i, stamp) for i in range(650)], stamp=stamp)
    # 100 at the window's upper bound (the Date header's second, exactly)
    upper = fake_sf.clock.replace(microsecond=0)
    fake_sf.insert("Opportunity", [opportunity(3000 + i, upper) for i in range(100)], stamp=upper)
    extract_and_load(source(fake_sf, bulk_threshold=threshold), [OBJ], wh)
    assert len(staged(wh)) == 755
    # saved later in the same second as the first window's end: must come with the next window
    late = upper + timedelta(milliseconds=800)
    fake_sf.insert("Opportunity", [opportunity(5000 + i, late) for i in range(250)], stamp=late)
    fake_sf.tick(timedelta(seconds=5))
    extract_and_load(source(fake_sf, bulk_threshold=threshold), [OBJ], wh)
    assert staged(wh) == live(fake_sf) and len(staged(wh)) == 1005
    assert wh.scalar("select count(*) from raw.crm__opportunity") == 1005  # none read twice


def test_zero_rows_after_a_big_sync_is_a_warning_with_counts(fake_sf, wh):
    ids = seed_opportunities(fake_sf, 1200)
    extract_and_load(source(fake_sf), [OBJ], wh, full_refresh=True)
    fake_sf.tick()
    for rid in ids:
        fake_sf.objects["Opportunity"].records.pop(rid)  # an org that suddenly answers nothing
    extract_and_load(source(fake_sf), [OBJ], wh, full_refresh=True)
    assert audit(wh)[-1]["warning"] == (
        "read 0 records where the previous sync read 1200: check the source "
        "(a timed-out or filtered query looks like this)"
    )
    assert audit(wh)[0]["warning"] is None


def test_a_quiet_object_reading_0_changes_after_its_full_load_is_no_warning(fake_sf, wh):
    """0 changed records the week after a full load is normal for a quiet object (campaigns,
    quotas): an incremental read is compared with the previous INCREMENTAL read only."""
    seed_opportunities(fake_sf, 1200)
    extract_and_load(source(fake_sf), [OBJ], wh, full_refresh=True)
    fake_sf.tick()
    extract_and_load(source(fake_sf), [OBJ], wh)  # nothing changed since the full load
    assert [(r["rows_read"], r["warning"]) for r in audit(wh)] == [(1200, None), (0, None)]
    stamp = fake_sf.clock + timedelta(seconds=1)
    fake_sf.insert("Opportunity", [opportunity(5000 + i, stamp) for i in range(1100)], stamp=stamp)
    fake_sf.tick(timedelta(seconds=5))
    extract_and_load(source(fake_sf), [OBJ], wh)  # a busy incremental day
    fake_sf.tick(timedelta(seconds=5))
    extract_and_load(source(fake_sf), [OBJ], wh)  # then silence: this one is worth a look
    rows = audit(wh)
    assert [r["rows_read"] for r in rows] == [1200, 0, 1100, 0]
    assert rows[2]["warning"] is None
    assert rows[3]["warning"] == (
        "read 0 records where the previous sync read 1100: check the source "
        "(a timed-out or filtered query looks like this)"
    )


def test_first_sync_estimate_matches_the_calls_actually_made(fake_sf, wh):
    seed_opportunities(fake_sf, 1050)
    src = source(fake_sf)
    [est] = src.estimate_first_sync([("Opportunity", "SystemModstamp")])
    assert est["records"] == 1050 and est["method"] == "bulk"
    assert est["rest_calls"] == 2 + 6  # describe + count + 6 REST pages of 200
    before = fake_sf.api_used
    extract_and_load(source(fake_sf), [OBJ], wh)
    actual = fake_sf.api_used - before - 1  # minus the /limits clock call
    # describe + count + create + 1 poll + 4 result pages + delete = 9; the estimate assumes 3 polls
    assert actual == 9 and est["bulk_calls"] == 11


def test_formula_fields_are_refreshed_on_their_cadence(fake_sf, wh):
    from tests.fakes.fixtures import OPPORTUNITY_FIELDS

    fake_sf.add_object("Opportunity", OPPORTUNITY_FIELDS, id_prefix="006", formula=["Probability"])
    ids = seed_opportunities(fake_sf, 30)

    def prob() -> dict[str, float]:
        return {
            r["id"]: r["probability"]
            for r in wh.query("select id, probability from staging.stg_crm__opportunity")
        }

    extract_and_load(source(fake_sf), [OBJ], wh)  # a full read: formulas current
    fake_sf.set_formula("Opportunity", ids[0], Probability=77.0)  # SystemModstamp does not move
    fake_sf.tick(timedelta(days=1))
    extract_and_load(source(fake_sf), [OBJ], wh)
    assert prob()[ids[0]] != 77.0  # an incremental window cannot see it
    fake_sf.tick(timedelta(days=7))
    extract_and_load(source(fake_sf), [OBJ], wh)
    org = {k: v["Probability"] for k, v in fake_sf.live("Opportunity").items()}
    assert prob() == org and prob()[ids[0]] == 77.0
    assert [r["formulas_refreshed"] for r in audit(wh)] == [False, False, True]


def test_custom_fields_from_describe_all_or_opt_in(fake_sf, wh):
    ids = seed_opportunities(fake_sf, 4)
    fake_sf.add_field("Opportunity", "Health_Score__c", "double")
    fake_sf.add_field("Opportunity", "Partner_Tier__c", "picklist")
    fake_sf.update("Opportunity", ids[1], Health_Score__c=8.5, Partner_Tier__c="Gold")
    src = source(fake_sf, custom_fields="all")
    batch = extract_batch(src, OBJ, wh)
    assert batch.schema_added == ["Health_Score__c", "Partner_Tier__c"]
    load_batch(wh, batch)
    raw = {
        r["Id"]: r
        for r in wh.query('select "Id", "Health_Score__c", "Partner_Tier__c" from raw.crm__opportunity')
    }
    assert raw[ids[1]]["Health_Score__c"] == "8.5" and raw[ids[1]]["Partner_Tier__c"] == "Gold"
    assert raw[ids[0]]["Health_Score__c"] is None
    # opt-in: only the listed one; a listed field the org lacks is a clear error
    fake_sf.tick()
    batch = extract_batch(
        source(fake_sf, custom_fields={"Opportunity": ["Partner_Tier__c"]}), OBJ, wh, full_refresh=True
    )
    assert batch.schema_added == ["Partner_Tier__c"]
    with pytest.raises(
        SourceError, match=r"lists \['Churn_Risk__c'\], which this org's describe does not have"
    ):
        extract_batch(source(fake_sf, custom_fields={"Opportunity": ["Churn_Risk__c"]}), OBJ, wh)


def test_profile_api_dry_run_reads_counts_only(fake_sf, monkeypatch, capsys):
    import json

    from salesops.sources.salesforce_profile import main

    seed_opportunities(fake_sf, 1050)
    fake_sf.add_object("User", {"Name": "string", "Email": "email"}, id_prefix="005")
    # stamped before the settle window (the profile, like the extract, reads up to the server
    # clock minus settle_seconds)
    fake_sf.insert(
        "User",
        [{"Name": f"Synthetic User {i}"} for i in range(3)],
        stamp=fake_sf.clock - timedelta(minutes=5),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_SF_FAKE",
        json.dumps(
            {
                "conn_type": "salesforce",
                "extra": {"instance_url": fake_sf.url, "access_token": fake_sf.issue_token()},
            }
        ),
    )
    monkeypatch.setitem(
        __import__("salesops.sources.salesforce_bulk", fromlist=["DEFAULTS"]).DEFAULTS, "bulk_threshold", 500
    )
    before = fake_sf.api_used
    assert main(["--conn-id", "sf_fake", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by = {r["object"]: r for r in report["objects"]}
    assert by["Opportunity"]["records"] == 1050 and by["User"]["records"] == 3
    assert by["Lead"]["method"] == "absent"  # the fake org has no Lead object
    assert fake_sf.jobs_created == []  # a dry run: no Bulk job, no query pages
    assert fake_sf.calls_to(r"/query$") == 2 and fake_sf.calls_to(r"/jobs/") == 0
    assert report["profile_calls"] == fake_sf.api_used - before
    assert report["daily_max"] == fake_sf.api_max


def test_resume_when_the_saved_job_is_gone_reads_the_window_again(fake_sf, wh):
    seed_opportunities(fake_sf, 1050)
    fake_sf.fail_next(r"/results$", 400, [{"errorCode": "CLIENT_CRASH_SIMULATED"}], skip=1)
    with pytest.raises(ApiError, match="CLIENT_CRASH_SIMULATED"):
        extract_batch(source(fake_sf), OBJ, wh)
    fake_sf.jobs.clear()  # the org no longer has the job (deleted or expired)
    batch = extract_batch(source(fake_sf), OBJ, wh)
    load_batch(wh, batch)
    assert [op for op, _ in fake_sf.jobs_created] == ["queryAll", "queryAll"]
    assert batch.rows_read == 1050 + 300  # the first page landed twice ...
    assert staged(wh) == live(fake_sf)  # ... and staging holds each record once, current


def test_client_timeout_on_a_bulk_result_page_is_retried_and_nothing_is_lost(fake_sf, wh):
    """A result page that answers after the client's read timeout: the GET is retried (idempotent,
    same locator), every record is loaded once, and the slow attempt is counted as a call."""
    seed_opportunities(fake_sf, 700)
    # a read timeout well above a loaded machine's normal answer (the count below is exact) and a
    # delay well above the timeout
    fake_sf.delay_next(r"/results$", 5.0)
    client = SalesforceClient(
        fake_sf.url,
        access_token=fake_sf.issue_token(),
        sleep=lambda s: None,
        max_attempts=3,
        timeout=(2.0, 3.0),
    )
    src = SalesforceVolumeSource(
        client, page_size=200, bulk_threshold=500, bulk_page_records=300, poll_initial_seconds=0.01
    )
    src.settle = src.overlap = timedelta(0)
    [res] = extract_and_load(src, [OBJ], wh)
    assert staged(wh) == live(fake_sf) and res.rows_inserted == 700
    assert fake_sf.calls_to(r"/results$") == 3 + 1  # three pages, the first one twice
    assert audit(wh)[0]["extract_method"] == "bulk"


def test_client_timeout_on_every_attempt_fails_the_task_and_loads_nothing(fake_sf, wh):
    seed_opportunities(fake_sf, 50)
    fake_sf.delay_next(r"/query$", 1.5, times=10)
    client = SalesforceClient(
        fake_sf.url,
        access_token=fake_sf.issue_token(),
        sleep=lambda s: None,
        max_attempts=2,
        timeout=(2.0, 0.5),
    )
    src = SalesforceVolumeSource(client, page_size=200, poll_initial_seconds=0.01)
    src.settle = src.overlap = timedelta(0)
    with pytest.raises(ApiError, match=r"(?i)timed? ?out"):
        extract_and_load(src, [OBJ], wh)
    assert not wh.table_exists("staging.stg_crm__opportunity") or staged(wh) == {}


def _strip_origin(folder) -> int:
    """Rewrite every part in ``folder`` without `_origin`, as a version before it landed them."""
    import pyarrow.parquet as pq

    parts = sorted(folder.glob("part-*.parquet"))
    for path in parts:
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(["_origin"]), path)
    return len(parts)


def test_a_bulk_read_resumed_across_the_upgrade_that_added_origin_loads(fake_sf, wh, tmp_path, monkeypatch):
    monkeypatch.setenv("SALESOPS_DATA_DIR", str(tmp_path / "data"))
    seed_opportunities(fake_sf, 1050)
    fake_sf.fail_next(r"/results$", 400, [{"errorCode": "CLIENT_CRASH_SIMULATED"}], skip=2)
    with pytest.raises(ApiError, match="CLIENT_CRASH_SIMULATED"):
        extract_batch(source(fake_sf), OBJ, wh)
    [partial] = list((tmp_path / "data").rglob("*.partial"))
    assert _strip_origin(partial) == 2  # the two pages landed before the crash, as the old version wrote them
    batch = extract_batch(source(fake_sf), OBJ, wh)
    load_batch(wh, batch)
    assert staged(wh) == live(fake_sf)
    assert wh.scalar("select count(*) from raw.crm__opportunity") == 1050
    assert wh.scalar("select count(_origin) from raw.crm__opportunity") == 0


def test_a_batch_landed_before_parts_carried_origin_loads(fake_sf, wh, tmp_path, monkeypatch):
    monkeypatch.setenv("SALESOPS_DATA_DIR", str(tmp_path / "data"))
    seed_opportunities(fake_sf, 40)
    batch = extract_batch(source(fake_sf), OBJ, wh)
    assert _strip_origin(Path(batch.landing_path)) >= 1
    res = load_batch(wh, batch)
    assert res.rows_inserted == 40 and staged(wh) == live(fake_sf)
    assert wh.scalar("select count(*) - count(_origin) from raw.crm__opportunity") == 40
