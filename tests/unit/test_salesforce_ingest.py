"""Write-back at volume: approved plans through one Bulk API 2.0 ingest job, against the fake org.

Every expectation comes from the fake org's own state (its records, jobs, uploads and per-record
write counts) and from the change log, never from what the connector reported.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from tests.fakes.fixtures import opportunity
from tests.fakes.salesforce_api import FakeSalesforce
from tests.unit.test_bulk_update_support import SimulatedCrash, approve, no_sleep

from salesops.bulk_update.apply import ApplyFailed, apply_plan, change_log
from salesops.bulk_update.plan import build_plan
from salesops.bulk_update.settings import load_settings
from salesops.ingest.pipeline import extract_and_load
from salesops.sources.salesforce import SalesforceClient
from salesops.sources.salesforce_bulk import SalesforceVolumeSource
from salesops.warehouse import Warehouse

PLAN = "fix_forecast_category"
FC = "ForecastCategoryName"
EXPECTED_FC = {"Closed Won": "Closed", "Closed Lost": "Omitted"}  # stages.yaml: first allowed category
N_OPPS = 600
N_ACCOUNTS = 7
LOCK = "UNABLE_TO_LOCK_ROW"
_TEMPLATE: dict[str, Path] = {}


def source(fake: FakeSalesforce, **volume) -> SalesforceVolumeSource:
    volume = {"ingest_threshold": 100, "poll_initial_seconds": 0.01, **volume}
    client = SalesforceClient(fake.url, access_token=fake.issue_token(), sleep=lambda s: None, max_attempts=2)
    src = SalesforceVolumeSource(client, page_size=2000, **volume)
    src.settle = src.overlap = timedelta(0)
    return src


@pytest.fixture()
def env(fake_sf, tmp_path, monkeypatch):
    """A fake org (600 opportunities on 7 accounts, 2 users), loaded into a fresh warehouse."""
    monkeypatch.setenv("SALESOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SALESOPS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("SALESOPS_DEMO_AUTO_APPROVE", raising=False)
    fake_sf.add_object("User", {"Name": "string", "Email": "email", "IsActive": "boolean"}, id_prefix="005")
    stamp = fake_sf.clock - timedelta(days=1)
    fake_sf.insert(
        "User", [{"Id": f"005FK{i:010d}AAA", "Name": f"Synthetic User {i}"} for i in range(23)], stamp=stamp
    )
    from tests.fakes.fixtures import OPPORTUNITY_FIELDS

    fake_sf.add_object("Opportunity", OPPORTUNITY_FIELDS, id_prefix="006")
    fake_sf.insert(
        "Opportunity",
        [opportunity(i, stamp, AccountId=f"001FK{i % N_ACCOUNTS:010d}AAA") for i in range(N_OPPS)],
        stamp=stamp,
    )
    fake_sf.ingest_chunk = 50
    # the org is seeded identically every time: load it once per process, copy the warehouse
    if "wh" not in _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="ingest-wh-")) / "wh.duckdb"
        template = Warehouse(f"duckdb:///{path}")
        extract_and_load(source(fake_sf), ["user", "opportunity"], template)
        template.dispose()
        _TEMPLATE["wh"] = path
    shutil.copy(_TEMPLATE["wh"], tmp_path / "wh.duckdb")
    wh = Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    yield fake_sf, wh
    wh.dispose()


def settings():
    s = load_settings()
    pt = dataclasses.replace(s.plan_type(PLAN), max_records=10_000, max_share=1.0, batch_size=200)
    return dataclasses.replace(s, plan_types={**s.plan_types, PLAN: pt})


def planned(fake: FakeSalesforce) -> dict[str, str]:
    """The org's own answer: id -> forecast category the plan must set (hand rule from stages.yaml)."""
    return {
        rid: EXPECTED_FC[r["StageName"]]
        for rid, r in fake.live("Opportunity").items()
        if r["StageName"] in EXPECTED_FC and r[FC] not in (EXPECTED_FC[r["StageName"]],)
    }


def build(wh, fake):
    s = settings()
    plan = build_plan(wh, PLAN, requester="analyst-1", settings=s, target=source(fake).target_id)
    approve(wh, plan)
    return plan, s


def events(wh, plan_id) -> list[dict]:
    """Every change-log event of the plan, in order (change_log() gives the latest per change)."""
    return wh.query(
        "select * from ops.bulk_update_change_log where plan_id = :p order by logged_at", {"p": plan_id}
    )


def latest(wh, plan_id) -> dict[str, dict]:
    out = {}
    for ev in change_log(wh, plan_id):
        out[ev["record_id"]] = ev
    return out


def test_large_plan_goes_through_one_ingest_job_sorted_by_parent(env):
    fake, wh = env
    expected = planned(fake)
    assert len(expected) == 240  # i % 5 in (3, 4): Closed Won / Closed Lost with Pipeline
    plan, s = build(wh, fake)
    src = source(fake)
    report = apply_plan(wh, src, plan.plan_id, run_id="manual__ingest", settings=s, sleep=no_sleep)
    # the org holds every planned value, and each planned record was written exactly once
    live = fake.live("Opportunity")
    assert {rid: live[rid][FC] for rid in expected} == expected
    assert {rid: live[rid]["Last_Bulk_Update_Plan__c"] for rid in expected} == dict.fromkeys(
        expected, plan.plan_id
    )
    assert {rid: fake.record_writes.get(rid) for rid in expected} == dict.fromkeys(expected, 1)
    assert sum(fake.record_writes.values()) == len(expected)
    # one ingest job, its CSV ordered by parent (AccountId from the org), then by id
    [(job_id, header, rows)] = fake.ingest_uploads
    assert header == ["Id", FC, "Last_Bulk_Update_Plan__c"]
    ids = [r[0] for r in rows]
    assert ids == sorted(ids, key=lambda rid: (live[rid]["AccountId"], rid)) and set(ids) == set(expected)
    # lock contention: only rows of a parent whose children straddle a 50-row chunk boundary
    locked = {r["record_id"] for r in events(wh, plan.plan_id) if LOCK in (r["error"] or "")}
    accounts_spanning = {live[rid]["AccountId"] for rid in locked}
    assert 0 < len(locked) and len(accounts_spanning) <= len(range(50, 240, 50))
    # ... they were re-read, then written through sObject Collections (one call of 200 at most)
    assert fake.calls_to(r"/composite/sobjects$") == 1
    assert report.ok and len(report.applied) == len(expected)  # one change per record
    assert {ev["status"] for ev in latest(wh, plan.plan_id).values()} == {"verified"}
    job = wh.query("select * from ops.bulk_update_ingest_job")
    assert [(j["job_id"], j["state"], j["records"], j["results_read"]) for j in job] == [
        (job_id, "JobComplete", 240, True)
    ]
    assert fake.ingest_jobs == {}  # deleted once its results were logged


def test_unsorted_rows_would_lock_far_more(env):
    """The control for the test above: the same rows in id order collide on many more parents."""
    fake, wh = env
    from salesops.sources.salesforce_ingest import parent_order

    live = fake.live("Opportunity")
    ids = sorted(planned(fake))
    updates = [{"Id": rid, "NextStep": "synthetic"} for rid in ids]
    ing = source(fake).ingest
    results = {}
    for name, rows in (
        ("by_id", updates),
        ("by_parent", parent_order(updates, {r: live[r]["AccountId"] for r in ids})),
    ):
        job = ing.create("Opportunity")
        ing.upload_and_close(job, rows)
        out = ing.results(job, ids, ing.wait(job))
        results[name] = sum(1 for r in out.results.values() if not r.success and LOCK in r.errors[0])
    assert results["by_parent"] * 3 < results["by_id"]  # 48 vs 190 in this model


def test_failed_job_is_re_read_and_never_resubmitted(env):
    fake, wh = env
    expected = planned(fake)
    plan, s = build(wh, fake)
    fake.fail_next_ingest_job("InvalidBatch : synthetic processing failure", after=30)
    fake.reject_ingest_row(sorted(expected)[0], "FIELD_CUSTOM_VALIDATION_EXCEPTION:Synthetic rule says no:--")
    with pytest.raises(ApplyFailed, match="changes failed"):
        apply_plan(wh, source(fake), plan.plan_id, run_id="manual__failed", settings=s, sleep=no_sleep)
    assert len(fake.ingest_created) == 1  # never a second job
    written = {rid for rid, n in fake.record_writes.items() if n}
    [(job_id, _, rows)] = fake.ingest_uploads
    sent_first = [r[0] for r in rows[:30]]
    assert written <= set(sent_first) and not fake.calls_to(r"/composite/sobjects$") > 1
    ev = latest(wh, plan.plan_id)
    not_processed = {rid for rid, e in ev.items() if "not processed" in (e["error"] or "")}
    assert not_processed == {r[0] for r in rows[30:]}
    assert all(f"ingest job {job_id} ended Failed: InvalidBatch" in ev[rid]["error"] for rid in not_processed)
    assert all(fake.live("Opportunity")[rid][FC] == "Pipeline" for rid in not_processed)
    rejected = sorted(expected)[0]
    if rejected in sent_first:
        assert (
            ev[rejected]["status"] == "failed"
            and "FIELD_CUSTOM_VALIDATION_EXCEPTION" in ev[rejected]["error"]
        )
    assert {ev[rid]["status"] for rid in written} == {"verified"}


def test_crash_while_the_job_runs_then_rerun_reads_the_same_job(env, monkeypatch):
    fake, wh = env
    expected = planned(fake)
    plan, s = build(wh, fake)
    from salesops.sources import salesforce_ingest

    real_wait = salesforce_ingest.SalesforceIngest.wait

    def crash(self, job_id):
        raise SimulatedCrash("worker killed while the ingest job runs")

    monkeypatch.setattr(salesforce_ingest.SalesforceIngest, "wait", crash)
    with pytest.raises(SimulatedCrash):
        apply_plan(wh, source(fake), plan.plan_id, run_id="manual__1", settings=s, sleep=no_sleep)
    assert [j["results_read"] for j in wh.query("select * from ops.bulk_update_ingest_job")] == [False]
    monkeypatch.setattr(salesforce_ingest.SalesforceIngest, "wait", real_wait)
    report = apply_plan(wh, source(fake), plan.plan_id, run_id="manual__2", settings=s, sleep=no_sleep)
    assert len(fake.ingest_created) == 1 and len(fake.ingest_uploads) == 1  # re-read, not resubmitted
    assert {rid: fake.record_writes.get(rid) for rid in expected} == dict.fromkeys(expected, 1)
    assert report.ok and {e["status"] for e in latest(wh, plan.plan_id).values()} == {"verified"}


def test_small_plan_stays_on_sobject_collections(env):
    fake, wh = env
    plan, s = build(wh, fake)
    apply_plan(wh, source(fake, ingest_threshold=10_000), plan.plan_id, settings=s, sleep=no_sleep)
    assert fake.ingest_created == [] and fake.calls_to(r"/composite/sobjects$") == 2  # 240 in 200 + 40


def test_no_ingest_job_without_four_eyes_approval(env):
    fake, wh = env
    from salesops.bulk_update.approval import ApprovalError

    s = settings()
    plan = build_plan(wh, PLAN, requester="analyst-1", settings=s, target=source(fake).target_id)
    with pytest.raises(ApprovalError, match="has no approval"):
        apply_plan(wh, source(fake), plan.plan_id, settings=s, sleep=no_sleep)
    approve(wh, plan, approver="analyst-1")  # the requester approving their own plan
    with pytest.raises(ApprovalError):
        apply_plan(wh, source(fake), plan.plan_id, settings=s, sleep=no_sleep)
    assert fake.ingest_created == [] and fake.record_writes == {}
