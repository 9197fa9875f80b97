"""The pipeline on the distributed stack, driven the way an operator drives it (REST API v2 only).

`requester` triggers ``crm_extract_load``; the Asset chain runs quality, KPIs and the packs on two
Celery workers; the packs are emailed to the local SMTP sink. `requester` then asks for a bulk
update, `approver` approves it through the HITL REST endpoint (the requester may not), and the demo
CRM changes exactly as planned. Everything is read back from the stack's own files: the metadata
(task instances over the API), the warehouse, the demo CRM and the task logs.
"""

from __future__ import annotations

import time

import pytest
from tests.support.airflow_stack import CHAIN, WORKERS, hitl_task

pytestmark = pytest.mark.stack

PLAN_TYPE = "fix_forecast_category"
FIELD = "ForecastCategoryName"
STAMP = "Last_Bulk_Update_Plan__c"
LOCK_FAILURE = "Could not set lock"
LOCK_WAIT = "locked by another process; waiting"


def test_operator_run_on_celery_stack(airflow_stack):
    t0 = time.monotonic()
    stack = airflow_stack
    requester, approver = stack.client("requester"), stack.client("approver")

    # 1. extract -> (Assets) quality -> KPIs -> packs, from one operator-triggered run
    runs = stack.load_demo()
    assert {d: r["state"] for d, r in runs.items()} == dict.fromkeys(CHAIN, "success")
    assert runs["crm_extract_load"]["run_type"] == "manual"
    assert runs["crm_extract_load"]["triggering_user_name"] == "requester"
    for dag_id in CHAIN[1:]:
        assert runs[dag_id]["run_type"] == "asset_triggered", dag_id
    chain_seconds = time.monotonic() - t0

    wh = stack.warehouse()
    assert wh.scalar("select count(*) from staging.stg_crm__opportunity") > 0
    assert wh.scalar("select count(*) from marts.kpi_ready") == 1

    # 2. the packs went out by email to the local SMTP server, as the delivery log says
    sent = wh.query(
        "select pack, recipient from ops.pack_delivery_log where channel = 'email' and status = 'sent'"
    )
    assert sent, wh.query("select pack, channel, status, detail from ops.pack_delivery_log")
    mails = stack.smtp.received()
    delivered_to = {rcpt for m in mails for rcpt in m.rcpt_tos}
    assert {r["recipient"] for r in sent} <= delivered_to
    html_parts = [p for m in mails for p in m.message.walk() if p.get_content_type() == "text/html"]
    assert html_parts, "no HTML body in the emailed packs"

    # 3. bulk update: requester asks, the requester may not approve, an approver does
    crm = stack.demo_crm()
    before = crm.change_log()
    seq0 = int(before["seq"].max()) if len(before) else -1
    hashes_before = crm.table_hashes()
    run = requester.trigger(
        "crm_bulk_update", {"plan_type": PLAN_TYPE, "reason": "stack test: off-policy categories"}
    )
    run_id = run["dag_run_id"]
    detail = approver.wait_for_hitl("crm_bulk_update", run_id)
    task_id, map_index = hitl_task(detail)
    assert {u["id"] for u in detail["assigned_users"]} >= {"approver"}
    refused = requester.respond_hitl(
        "crm_bulk_update", run_id, task_id, map_index, ["Approve"], {"comment": "mine"}
    )
    assert refused.status_code == 403, refused.text
    answer = approver.respond_hitl(
        "crm_bulk_update", run_id, task_id, map_index, ["Approve"], {"comment": "checked the sample"}
    )
    assert answer.status_code == 200, answer.text
    done = requester.wait_for_run("crm_bulk_update", run_id, timeout=300)
    states = {t["task_id"]: t["state"] for t in requester.task_instances("crm_bulk_update", run_id)}
    assert done["state"] == "success", states
    assert states["apply_plan"] == "success" and states["ask_approval"] == "success", states

    plan = wh.query(
        "select plan_id, requester, status from ops.bulk_update_plan where run_id = :r", {"r": run_id}
    )
    assert len(plan) == 1, plan
    plan, plan_id = plan[0], plan[0]["plan_id"]
    approval = wh.query(
        "select approver, decision from ops.bulk_update_approval where plan_id = :p", {"p": plan_id}
    )
    assert plan["status"] == "applied", plan
    assert plan["requester"] == "requester"
    assert [(a["approver"], a["decision"]) for a in approval] == [("approver", "approve")]
    changes = wh.query(
        "select record_id, after_value from ops.bulk_update_plan_row "
        "where plan_id = :p and role = 'change' and field = :f",
        {"p": plan_id, "f": FIELD},
    )
    planned = {c["record_id"]: c["after_value"] for c in changes}
    assert planned

    # the CRM now holds exactly the planned values, stamped with the plan ...
    got = {r["Id"]: r for r in crm.get_records("Opportunity", sorted(planned), [FIELD, STAMP])}
    assert {i: got[i][FIELD] for i in planned} == planned
    assert {got[i][STAMP] for i in planned} == {plan_id}
    # ... and nothing else changed: one logged update per planned record, other tables untouched
    # (field history rows are the CRM's own audit trail of those updates)
    log = crm.change_log(since_seq=seq0)
    updates = log[log["object"] == "Opportunity"]
    assert sorted(updates["record_id"]) == sorted(planned)
    assert set(updates["change_type"]) == {"update"}
    assert set(log["object"]) <= {"Opportunity", "OpportunityFieldHistory"}
    assert set(log.loc[log["object"] == "OpportunityFieldHistory", "change_type"]) <= {"insert"}
    hashes_after = crm.table_hashes()
    changed_tables = {"Opportunity", "OpportunityFieldHistory", "change_log", "meta", "ground_truth"}
    untouched = set(hashes_before) - changed_tables
    assert {t: hashes_after[t] for t in untouched} == {t: hashes_before[t] for t in untouched}

    # 4. tasks ran on both Celery workers
    hosts: dict[str, int] = {}
    all_runs = [(d, r["dag_run_id"]) for d, r in runs.items()] + [("crm_bulk_update", run_id)]
    for dag_id, rid in all_runs:
        for ti in requester.task_instances(dag_id, rid):
            if ti["state"] == "success" and ti["hostname"]:
                hosts[ti["hostname"]] = hosts.get(ti["hostname"], 0) + 1
    assert set(hosts) == set(WORKERS), hosts

    # 5. DuckDB's single writer: no task failed on the file lock; waits for it happened and passed
    logs = {p: p.read_text(errors="replace") for p in stack.task_log_files()}
    assert logs
    assert not [str(p) for p, text in logs.items() if LOCK_FAILURE in text]
    waits = sum(text.count(LOCK_WAIT) for text in logs.values())
    assert waits > 0, "no task waited for the warehouse lock: tasks never overlapped on the DuckDB file"
    failed = [
        (d, t["task_id"], t["map_index"])
        for d, rid in all_runs
        for t in requester.task_instances(d, rid)
        if t["state"] in ("failed", "up_for_retry", "upstream_failed")
        # a retry would mean a task failed once (e.g. on the lock); a HITL resume is not a retry
        or (t["task_id"] != "ask_approval" and (t["try_number"] or 0) > 1)
    ]
    assert failed == []

    print(
        f"\nstack: up in {stack.start_seconds:.1f}s; chain {chain_seconds:.1f}s; "
        f"whole test {time.monotonic() - t0:.1f}s; tasks per worker {hosts}; lock waits {waits}; "
        f"emails {len(mails)}; planned changes {len(planned)}"
    )
