"""Fault injection on the write path: a write the server applied and then answered with an error
is never sent again; the apply loop (not the HTTP layer) owns retries, re-reads first, and caps
attempts per batch.

Issue 11 (7): a PATCH the server applied and then answered 500 was sent again by the HTTP layer.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from tests.unit.test_bulk_update_support import approve, make_env, no_sleep
from werkzeug import Response

from salesops.bulk_update.apply import apply_plan, change_log
from salesops.bulk_update.plan import build_plan
from salesops.sources.salesforce import SalesforceClient, SalesforceSource

pytestmark = pytest.mark.faults
V = "/services/data/v62.0"


class FakeSalesforceWrites:
    """A stateful fake Salesforce REST API (composite sObject Collections) on 127.0.0.1.

    ``commit_then_500`` PATCH calls are applied and then answered 500 (the worst case: the client
    cannot know it worked)."""

    def __init__(self, httpserver, records: dict[str, dict]):
        self.records = records
        self.calls: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.commit_then_500 = 0
        httpserver.expect_request(f"{V}/composite/sobjects", method="PATCH").respond_with_handler(self.patch)

    def patch(self, request):
        self.calls["PATCH"] += 1
        out = []
        for rec in request.get_json()["records"]:
            rid = rec["id"]
            for k, v in rec.items():
                if k not in ("attributes", "id"):
                    self.records[rid][k] = v
            self.writes[rid] += 1
            out.append({"id": rid, "success": True, "errors": []})
        if self.commit_then_500:
            self.commit_then_500 -= 1
            return Response(json.dumps([{"errorCode": "UNKNOWN_EXCEPTION"}]), status=500)
        return Response(json.dumps(out), status=200, content_type="application/json")


def test_http_layer_never_resends_a_patch_the_server_applied(httpserver):
    fake = FakeSalesforceWrites(httpserver, {"006A": {"StageName": "Prospecting"}})
    fake.commit_then_500 = 1
    sleeps: list[float] = []
    client = SalesforceClient(httpserver.url_for("/"), access_token="t", sleep=sleeps.append, max_attempts=4)
    results = SalesforceSource(client).update_records(
        "Opportunity", [{"Id": "006A", "StageName": "Closed Lost"}]
    )
    assert fake.calls["PATCH"] == 1 and fake.writes["006A"] == 1 and sleeps == []
    assert [(r.id, r.success, r.transient) for r in results] == [("006A", False, True)]
    assert "not retried: not idempotent" in results[0].errors[0]


def test_reads_are_still_retried_by_the_http_layer(httpserver):
    hits = Counter()

    def flaky(request):
        hits["GET"] += 1
        if hits["GET"] == 1:
            return Response("busy", status=503)
        return Response(json.dumps({"ok": 1}), status=200, content_type="application/json")

    httpserver.expect_request(f"{V}/limits", method="GET").respond_with_handler(flaky)
    sleeps: list[float] = []
    client = SalesforceClient(httpserver.url_for("/"), access_token="t", sleep=sleeps.append)
    assert client.get_json(f"{V}/limits") == {"ok": 1}
    assert hits["GET"] == 2 and len(sleeps) == 1


@pytest.fixture()
def crm_env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def test_apply_rereads_before_retrying_and_writes_each_change_once(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    first, second = p.record_ids[:2]
    crm.faults[first] = ["applied_transient"]  # written, answered as a transient failure
    crm.faults[second] = ["transient"]  # not written, transient failure
    report = apply_plan(wh, crm, p.plan_id, run_id="manual__faults", sleep=no_sleep)
    assert report.ok
    assert all(crm.writes[rid] == 1 for rid in p.record_ids), dict(crm.writes)
    states = {r["record_id"]: r for r in change_log(wh, p.plan_id)}
    assert states[first]["status"] == "verified" and states[second]["status"] == "verified"
    assert {r["run_id"] for r in change_log(wh, p.plan_id)} == {"manual__faults"}
    assert report.write_calls == 2  # the retry carried only the record that was not written


def test_attempts_per_batch_are_capped(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    rid = p.record_ids[0]
    crm.faults[rid] = ["transient"] * 50
    report = apply_plan(wh, crm, p.plan_id, sleep=no_sleep, raise_on_failure=False)
    failed = [f for f in report.failed if f["record_id"] == rid]
    assert failed and "transient, retries exhausted" in failed[0]["error"]
    assert len(crm.faults[rid]) == 50 - 4  # bulk_updates.yaml: max_attempts 4 per batch
    assert crm.writes[rid] == 0
