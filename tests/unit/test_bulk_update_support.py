"""Shared pieces of the bulk-update unit tests: an in-memory CRM with the DemoCrm's write
semantics (per-record results, transient/permanent fault injection, SystemModstamp bumped per
write, field history) and a small warehouse loaded from it through the real load path.

The data set is tiny and hand-made so every expected plan row is known in advance.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from salesops.sources.base import UpdateResult

AS_OF = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
TODAY = AS_OF.date()


def _stamp(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _d(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


class SimulatedCrash(BaseException):
    """The worker dies (SIGKILL-like): not an Exception, so nothing in apply catches it."""


class FakeCrm:
    """In-memory CrmSource. ``faults[id]`` is a list of 'transient'/'permanent'/'ignore' consumed one
    per write attempt of that record; ``crash_after_calls`` raises SimulatedCrash after the N-th
    update call has been applied; ``raise_after_write_calls`` raises ConnectionError after writing."""

    name = "fake"

    def __init__(self, records: dict[str, dict[str, dict]]):
        self.records = records
        self.clock = AS_OF
        self.writes: Counter[str] = Counter()
        self.history: list[tuple[str, str, object, object]] = []
        self.faults: dict[str, list[str]] = {}
        self.calls = 0
        self.call_sizes: list[int] = []
        self.crash_after_calls: int | None = None
        self.raise_after_write_calls: set[int] = set()

    # -- read side (the load path) ------------------------------------------------------------
    def server_time(self) -> datetime:
        return self.clock

    def read_changes(self, api_name, fields, cursor, since, until):
        rows = []
        for rec in sorted(self.records.get(api_name, {}).values(), key=lambda r: r["Id"]):
            rows.append({f: rec.get(f) for f in fields})
        yield rows

    def read_deleted(self, api_name, since, until):
        return []

    def get_records(self, api_name, ids, fields):
        out = []
        for rid in ids:
            rec = self.records.get(api_name, {}).get(rid)
            if rec is not None:
                out.append({"Id": rid, **{f: rec.get(f) for f in fields}})
        return out

    # -- write side ------------------------------------------------------------------------------
    def update_records(self, api_name, updates):
        self.calls += 1
        self.call_sizes.append(len(updates))
        results = []
        for upd in updates:
            rid = upd["Id"]
            fault = self.faults.get(rid, []).pop(0) if self.faults.get(rid) else None
            if fault == "transient":
                results.append(
                    UpdateResult(rid, False, ["UNABLE_TO_LOCK_ROW: record locked"], transient=True)
                )
                continue
            if fault == "permanent":
                results.append(
                    UpdateResult(rid, False, ["FIELD_CUSTOM_VALIDATION_EXCEPTION: rejected by rule"])
                )
                continue
            rec = self.records[api_name].get(rid)
            if rec is None:
                results.append(UpdateResult(rid, False, ["ENTITY_IS_DELETED"]))
                continue
            if fault != "ignore":  # 'ignore': the API says success but drops the change
                # 'applied_transient': the write lands, then the answer is a transient error (a 500
                # after commit): only a re-read can tell.
                for f, v in upd.items():
                    if f != "Id":
                        self.history.append((rid, f, rec.get(f), v))
                        rec[f] = v
            self.clock += timedelta(seconds=1)
            rec["SystemModstamp"] = _stamp(self.clock)
            self.writes[rid] += 1
            if fault == "applied_transient":
                results.append(UpdateResult(rid, False, ["500: server error after commit"], transient=True))
                continue
            results.append(UpdateResult(rid, True))
        if self.calls in self.raise_after_write_calls:
            raise ConnectionError("connection reset by peer")
        if self.crash_after_calls is not None and self.calls >= self.crash_after_calls:
            self.crash_after_calls = None
            raise SimulatedCrash(f"worker killed after call {self.calls}")
        return results

    def snapshot(self) -> dict[str, dict[str, dict]]:
        return copy.deepcopy(self.records)


def _user(uid, team, active=True):
    region = team.split("-")[0]
    return {
        "Id": uid,
        "Name": f"User {uid}",
        "Email": f"{uid}@example.test",
        "UserRole": "Account Executive",
        "Region__c": region,
        "Segment__c": team.split("-")[1],
        "Team__c": team,
        "IsActive": active,
        "CreatedDate": "2025-01-01T00:00:00.000+0000",
        "SystemModstamp": _stamp(AS_OF - timedelta(days=30)),
    }


def _opp(
    i,
    stage="Prospecting",
    fc="Pipeline",
    close_in=40,
    activity_ago=3,
    closed=False,
    won=False,
    owner="u1",
    created_ago=60,
    probability=10,
):
    return {
        "Id": f"O{i:03d}",
        "Name": f"Deal {i:03d}",
        "AccountId": "A001",
        "OwnerId": owner,
        "StageName": stage,
        "Amount": 1000 + i,
        "Probability": probability,
        "CloseDate": (TODAY + timedelta(days=close_in)).isoformat(),
        "ForecastCategoryName": fc,
        "NextStep": "call",
        "LastActivityDate": _d(activity_ago) if activity_ago is not None else None,
        "Type": "New Business",
        "LeadSource": "Web",
        "IsClosed": closed,
        "IsWon": won,
        "Loss_Reason__c": None,
        "Last_Bulk_Update_Plan__c": None,
        "CreatedDate": _stamp(AS_OF - timedelta(days=created_ago)),
        "SystemModstamp": _stamp(AS_OF - timedelta(days=1)),
    }


def _lead(i, country="United States", employees=50, owner="u1", status="Open", converted=False):
    return {
        "Id": f"L{i:03d}",
        "FirstName": "Test",
        "LastName": f"Lead{i:03d}",
        "Company": f"Company {i:03d}",
        "Email": f"lead{i}@example.test",
        "Country": country,
        "NumberOfEmployees": employees,
        "LeadSource": "Web",
        "Status": status,
        "OwnerId": owner,
        "IsConverted": converted,
        "Last_Bulk_Update_Plan__c": None,
        "CreatedDate": _stamp(AS_OF - timedelta(days=5)),
        "SystemModstamp": _stamp(AS_OF - timedelta(days=1)),
    }


def make_records() -> dict[str, dict[str, dict]]:
    users = [
        _user("u1", "AMER-SMB"),
        _user("u2", "AMER-SMB"),
        _user("u3", "AMER-SMB", active=False),
        _user("u4", "EMEA-ENT"),
        _user("u5", "AMER-MM"),
    ]
    opps = [_opp(i) for i in range(1, 101)]
    by_id = {o["Id"]: o for o in opps}
    by_id["O001"].update(
        StageName="Qualification", ForecastCategoryName="Commit", Probability=20
    )  # not allowed -> Pipeline
    by_id["O002"].update(
        StageName="Negotiation/Review", ForecastCategoryName=None, Probability=90
    )  # missing -> Commit
    by_id["O003"].update(
        StageName="Closed Won", ForecastCategoryName="Pipeline", IsClosed=True, IsWon=True, Probability=100
    )
    by_id["O010"].update(LastActivityDate=_d(200))  # stale beyond 30 + 60 days
    by_id["O011"].update(LastActivityDate=None)  # no activity, created 300 days ago
    by_id["O011"]["CreatedDate"] = _stamp(AS_OF - timedelta(days=300))
    by_id["O012"].update(LastActivityDate=_d(60))  # stale by policy, within the extra margin
    by_id["O020"].update(CloseDate=_d(10))  # past due, active -> move
    by_id["O021"].update(CloseDate=_d(5), LastActivityDate=_d(45))  # past due but stale (>30 d) -> excluded
    by_id["O022"].update(
        CloseDate=_d(30),
        StageName="Closed Lost",
        ForecastCategoryName="Omitted",
        IsClosed=True,
        Probability=0,
        Loss_Reason__c="Price",
    )  # past date but closed -> not moved
    leads = [_lead(i) for i in range(1, 61)]
    lb = {lead["Id"]: lead for lead in leads}
    lb["L001"].update(OwnerId=None)  # unassigned -> AMER-SMB
    lb["L002"].update(OwnerId=None, NumberOfEmployees=30)  # unassigned -> AMER-SMB
    lb["L003"].update(OwnerId="u4")  # EMEA-ENT rep on a US SMB lead: misrouted
    lb["L004"].update(OwnerId="u3")  # inactive owner: misrouted
    lb["L006"].update(OwnerId=None, Country="Atlantis")  # no territory: left alone
    lb["L007"].update(OwnerId=None, IsConverted=True, Status="Converted")  # converted: left alone
    lb["L008"].update(OwnerId=None, Country="Germany", NumberOfEmployees=5000)  # EMEA-ENT -> u4
    return {"User": {u["Id"]: u for u in users}, "Opportunity": by_id, "Lead": lb}


_TEMPLATE: dict[str, Path] = {}


def make_env(tmp_path, monkeypatch):
    """A fresh FakeCrm and a DuckDB warehouse loaded from it (user, opportunity, lead).

    The warehouse is loaded once per process through the real load path and copied per test.
    Each test module wraps this in its own ``crm_env`` fixture."""
    from salesops.ingest.pipeline import extract_and_load
    from salesops.warehouse import Warehouse

    monkeypatch.setenv("SALESOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SALESOPS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("SALESOPS_DEMO_AUTO_APPROVE", raising=False)
    if "wh" not in _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="bulk-update-wh-")) / "wh.duckdb"
        template = Warehouse(f"duckdb:///{path}")
        extract_and_load(FakeCrm(make_records()), ["user", "opportunity", "lead"], template)
        template.dispose()
        _TEMPLATE["wh"] = path
    shutil.copy(_TEMPLATE["wh"], tmp_path / "wh.duckdb")
    return FakeCrm(make_records()), Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")


def approve(wh, plan, approver="salesops-approver-1", channel="ui"):
    """Record a UI approval the way PlanApprovalOperator does."""
    from salesops.bulk_update import approval, store

    d = approval.Decision("approve", approver, store.utcnow(), "looks right", channel)
    approval.record_decision(wh, plan, d, run_id="manual__test")
    return d


def no_sleep(_seconds: float) -> None:
    return None


def test_fake_crm_keeps_the_update_contract():
    crm = FakeCrm(make_records())
    res = crm.update_records(
        "Opportunity", [{"Id": "O001", "NextStep": "x"}, {"Id": "NOPE", "NextStep": "y"}]
    )
    assert [(r.id, r.success) for r in res] == [("O001", True), ("NOPE", False)]
    assert crm.records["Opportunity"]["O001"]["NextStep"] == "x" and crm.writes["O001"] == 1
    assert date.fromisoformat(crm.get_records("Opportunity", ["O001"], ["CloseDate"])[0]["CloseDate"]) > TODAY
