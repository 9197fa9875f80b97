"""Every quality check on tiny hand-made staging tables, with the expected offenders spelled out.

One scenario warehouse (module-scoped: GX runs once) holds a record per rule: a clean one, the
boundary case that must NOT be flagged, and the one that must. Edge cases (empty tables, one-row
tables, unicode names, nulls) get their own small warehouses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from salesops.config import object_manifest
from salesops.warehouse.core import Warehouse
from salesops.warehouse.schema import ensure_object_tables

AS_OF = datetime(2026, 11, 1, 0, 0, 0)
LOADED_AT = AS_OF + timedelta(minutes=5)


def insert(wh: Warehouse, name: str, rows: list[dict]) -> None:
    """Insert rows into staging.stg_<system>__<name> (columns by staging name)."""
    if not rows:
        return
    table = object_manifest()[name].staging_table
    cols = sorted({c for r in rows for c in r})
    with wh.connect() as conn:
        import sqlalchemy as sa

        stmt = sa.text(
            f"insert into {table} ({', '.join(cols)}, _batch_id, _loaded_at) "
            f"values ({', '.join(':' + c for c in cols)}, 'b1', :_loaded_at)"
        )
        for r in rows:
            conn.execute(stmt, {**{c: r.get(c) for c in cols}, "_loaded_at": LOADED_AT})


def mark_loaded(wh: Warehouse, until: datetime = AS_OF, overrides: dict[str, datetime] | None = None) -> None:
    """One successful load per manifest object, extracted up to ``until`` (per-object overrides)."""
    wh.execute("delete from ops.load_audit")
    for name in object_manifest():
        u = (overrides or {}).get(name, until)
        wh.execute(
            "insert into ops.load_audit (batch_id, object, source, until, status, started_at, finished_at) "
            "values (:b, :o, 'demo', :u, 'loaded', :u, :f)",
            {"b": f"b-{name}", "o": name, "u": u, "f": u + timedelta(minutes=5)},
        )


def new_warehouse(path: Path) -> Warehouse:
    wh = Warehouse("duckdb:///" + str(path / "w.duckdb"))
    ensure_object_tables(wh)
    return wh


USERS = [
    {
        "id": "M1",
        "name": "Manager One",
        "team": "AMER-SMB",
        "region": "AMER",
        "segment": "SMB",
        "is_active": True,
    },
    {
        "id": "U1",
        "name": "Rep One",
        "team": "AMER-SMB",
        "region": "AMER",
        "segment": "SMB",
        "manager_id": "M1",
        "is_active": True,
    },
    {
        "id": "U2",
        "name": "Rep Two",
        "team": "EMEA-ENT",
        "region": "EMEA",
        "segment": "ENT",
        "manager_id": "M1",
        "is_active": True,
    },
    {
        "id": "U3",
        "name": "Rep Three",
        "team": "APAC-MM",
        "region": "APAC",
        "segment": "MM",
        "manager_id": "M1",
        "is_active": True,
    },
]
ACCOUNTS = [
    {
        "id": "A1",
        "name": "Acme Incorporated",
        "website": "acme.example",
        "owner_id": "U1",
        "created_at": "2025-01-01 00:00:00",
    },
    {
        "id": "A2",
        "name": "ACME, Inc.",
        "website": "acme.example",
        "owner_id": "U1",
        "created_at": "2025-02-01 00:00:00",
    },
    {
        "id": "A3",
        "name": "Quillon Analytics",
        "website": "quillon.example",
        "owner_id": "U2",
        "created_at": "2025-01-01 00:00:00",
    },
    {
        "id": "A4",
        "name": "Quillon Analytcs",
        "website": None,
        "owner_id": "U2",
        "created_at": "2025-03-01 00:00:00",
    },
    {
        "id": "A5",
        "name": "Ωmega Systèmes",
        "website": "omega.example",
        "owner_id": "U3",
        "created_at": "2025-01-01 00:00:00",
    },
    {
        "id": "A6",
        "name": "Borealis Ltd",
        "website": "borealis.example",
        "owner_id": "U3",
        "created_at": "2025-01-01 00:00:00",
    },
]


def _opp(id_, stage, **kw):
    closed = stage.startswith("Closed")
    base = {
        "id": id_,
        "name": f"Deal {id_}",
        "account_id": "A1",
        "owner_id": "U1",
        "stage_name": stage,
        "amount": 1000,
        "close_date": "2026-12-01",
        "forecast_category": "Pipeline",
        "next_step": "call",
        "last_activity_date": "2026-10-25",
        "type": "New Business",
        "lead_source": "Web",
        "is_closed": closed,
        "is_won": stage == "Closed Won",
        "created_at": "2026-06-01 00:00:00",
    }
    base.update(kw)
    return base


OPPS = [
    # clean; activity exactly 30 days before as-of (boundary: not stale), two pushes (boundary: not flagged)
    _opp("O1", "Prospecting", last_activity_date="2026-10-02"),
    _opp("O2", "Qualification", amount=None),  # missing Amount
    _opp("O3", "Proposal/Price Quote", forecast_category="Pipeline"),  # no products; FC not allowed
    _opp(
        "O4",
        "Negotiation/Review",
        forecast_category="Commit",
        close_date="2026-10-15",
        last_activity_date="2026-09-01",
        next_step="   ",
    ),  # past close, stale, blank step
    _opp(
        "O5",
        "Closed Won",
        amount=6_000_000,
        forecast_category="Closed",
        type="New Biz",
        account_id="A404",
        close_date="2026-09-10",
    ),  # outlier, bad Type, orphan acct
    _opp(
        "O6",
        "Closed Won",
        amount=500,
        forecast_category="Closed",
        lead_source="Carrier Pigeon",
        close_date="2026-09-12",
    ),  # booking mismatch, bad source
    _opp(
        "O7", "Closed Won", amount=800, forecast_category="Closed", owner_id="U404", close_date="2026-09-15"
    ),  # no booking, orphan owner
    _opp(
        "O8", "Closed Lost", amount=-5, forecast_category="Omitted", close_date="2026-08-01"
    ),  # no loss reason
    _opp(
        "O9", "Value Proposition", forecast_category="Best Case", last_activity_date=None, owner_id="U2"
    ),  # pushed 3x, no activity
    _opp("O10", "Needs Analysis", forecast_category=None, close_date="2026-11-01", next_step="Démo prévue"),
]
LINE_ITEMS = [
    {
        "id": f"LI{o}",
        "opportunity_id": o,
        "product_code": "P1",
        "quantity": 1,
        "unit_price": 1,
        "total_price": 1,
    }
    for o in ("O4", "O5", "O6", "O7", "O8")
]
HISTORY = (
    [
        {
            "id": f"H9{i}",
            "opportunity_id": "O9",
            "field": "CloseDate",
            "old_value": f"2026-0{i}-01",
            "new_value": f"2026-0{i + 1}-01",
            "created_at": f"2026-0{i}-02 00:00:00",
        }
        for i in (1, 2, 3)
    ]
    + [
        {
            "id": "H9x",
            "opportunity_id": "O9",
            "field": "CloseDate",
            "old_value": "2026-05-01",
            "new_value": "2026-04-15",
            "created_at": "2026-05-02 00:00:00",
        }
    ]  # pulled in: not a push
    + [
        {
            "id": f"H1{i}",
            "opportunity_id": "O1",
            "field": "CloseDate",
            "old_value": f"2026-0{i}-01",
            "new_value": f"2026-0{i + 1}-01",
            "created_at": f"2026-0{i}-02 00:00:00",
        }
        for i in (1, 2)
    ]
    + [
        {
            "id": "H1s",
            "opportunity_id": "O1",
            "field": "StageName",
            "old_value": "2026-01-01",
            "new_value": "2026-09-01",
            "created_at": "2026-05-02 00:00:00",
        }
    ]  # other field: ignored
)
BOOKINGS = [
    {
        "id": "B1",
        "opportunity_id": "O5",
        "account_id": "A1",
        "booking_date": "2026-09-10",
        "amount": 6_000_000,
    },
    {"id": "B2", "opportunity_id": "O6", "account_id": "A1", "booking_date": "2026-09-12", "amount": 450},
    {"id": "B3", "opportunity_id": "O404", "account_id": "A1", "booking_date": "2026-09-20", "amount": 10},
]


def _lead(id_, **kw):
    base = {
        "id": id_,
        "first_name": "Ann",
        "last_name": f"Lead{id_}",
        "company": f"Co {id_}",
        "email": f"{id_.lower()}@co.example",
        "country": "United States",
        "number_of_employees": 50,
        "owner_id": "U1",
        "created_at": "2026-10-20 08:00:00",
        "assigned_at": "2026-10-20 10:00:00",
        "is_converted": False,
        "status": "Open",
        "lead_source": "Web",
    }
    base.update(kw)
    return base


LEADS = [
    _lead("L1", first_name="Zed", last_name="Quux", company="Acme Inc", email="zed@acme.example"),
    _lead("L2", country="Germany", number_of_employees=5000),  # misrouted (EMEA-ENT)
    _lead(
        "L3", country="Japan", number_of_employees=500, owner_id="U3", assigned_at="2026-10-20 18:00:01"
    ),  # 10h > 8h MM SLA
    _lead(
        "L3b", country="Japan", number_of_employees=500, owner_id="U3", assigned_at="2026-10-20 16:00:00"
    ),  # exactly 8h: within SLA
    _lead("L4", owner_id=None, assigned_at=None),  # unassigned
    _lead("L5", owner_id=None, assigned_at=None, is_converted=True),  # converted: fine
    _lead("L6", email="bad@@co"),  # invalid email
    _lead(
        "L7",
        first_name="Zed",
        last_name="Quux",
        company="Acme Inc",
        email="zed+promo@acme.example",
        created_at="2026-10-21 08:00:00",
        assigned_at="2026-10-21 09:00:00",
    ),  # duplicate of L1 (alias)
    _lead(
        "L8", first_name="Zoë", last_name="Ünal", company="Ωmega", email="zoe@omega.example"
    ),  # unicode, unique
    _lead("L9", country="Atlantis", number_of_employees=None, owner_id="U2"),  # no rule covers it
]
CONTACTS = [
    {
        "id": "C1",
        "account_id": "A1",
        "first_name": "Ida",
        "last_name": "Vorn",
        "email": "ida@acme.example",
        "owner_id": "U1",
        "created_at": "2026-01-01 00:00:00",
    },
    {
        "id": "C2",
        "account_id": "A1",
        "first_name": "Bo",
        "last_name": "Kest",
        "email": "bo at acme",
        "owner_id": "U1",
        "created_at": "2026-01-01 00:00:00",
    },
    {
        "id": "C3",
        "account_id": "A404",
        "first_name": "Cy",
        "last_name": "Marr",
        "email": "cy@acme.example",
        "owner_id": "U2",
        "created_at": "2026-01-01 00:00:00",
    },
    {
        "id": "C4",
        "account_id": "A1",
        "first_name": "IDA",
        "last_name": "VORN",
        "email": "IDA@acme.example",
        "owner_id": "U1",
        "created_at": "2026-02-01 00:00:00",
    },
    {
        "id": "C5",
        "account_id": None,
        "first_name": None,
        "last_name": None,
        "email": None,
        "owner_id": None,
        "created_at": None,
    },
]


def seed_scenario(wh: Warehouse) -> None:
    insert(wh, "user", USERS)
    insert(wh, "account", ACCOUNTS)
    insert(wh, "opportunity", OPPS)
    insert(wh, "opportunity_line_item", LINE_ITEMS)
    insert(wh, "opportunity_field_history", HISTORY)
    insert(wh, "booking", BOOKINGS)
    insert(wh, "lead", LEADS)
    insert(wh, "contact", CONTACTS)
    mark_loaded(wh)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    from salesops.quality.runner import run_quality

    root = tmp_path_factory.mktemp("quality")
    wh = new_warehouse(root)
    seed_scenario(wh)
    summary = run_quality(wh, run_id="r1")
    return wh, summary


def offenders(wh: Warehouse, check: str, run_id: str = "r1") -> set[str]:
    rows = wh.query(
        "select record_id from quality.run_exception where run_id = :r and check_id = :c",
        {"r": run_id, "c": check},
    )
    return {r["record_id"] for r in rows}


def details(wh: Warehouse, check: str, run_id: str = "r1") -> set[tuple[str, str]]:
    rows = wh.query(
        "select record_id, detail from quality.run_exception where run_id = :r and check_id = :c",
        {"r": run_id, "c": check},
    )
    return {(r["record_id"], r["detail"]) for r in rows}


def result(
    wh: Warehouse,
    check: str,
    scope_type: str = "all",
    scope_value: str = "all",
    run_id: str = "r1",
    obj: str | None = None,
) -> dict:
    rows = wh.query(
        "select * from quality.check_result where run_id = :r and check_id = :c and scope_type = :t "
        "and scope_value = :v" + (" and object = :o" if obj else ""),
        {"r": run_id, "c": check, "t": scope_type, "v": scope_value, "o": obj},
    )
    assert len(rows) == 1, rows
    return rows[0]


# --- opportunity checks ----------------------------------------------------------------------


def test_required_fields_by_stage(scenario):
    wh, _ = scenario
    assert details(wh, "opp_missing_required_field") == {
        ("O2", "Amount"),
        ("O3", "Products"),
        ("O8", "Loss_Reason__c"),
    }
    r = result(wh, "opp_missing_required_field")
    assert (r["evaluated"], r["failed"]) == (10, 3)


def test_past_close_date_only_open(scenario):
    wh, _ = scenario
    # O4 open with a past date; O5-O8 are closed with past dates; O10 closes on the as-of day (not past)
    assert offenders(wh, "opp_past_close_date") == {"O4"}
    assert result(wh, "opp_past_close_date")["evaluated"] == 6


def test_close_date_pushes_from_history(scenario):
    wh, _ = scenario
    assert details(wh, "opp_close_date_pushed") == {("O9", "3 pushes")}  # O1's two pushes are the limit


def test_forecast_category_per_stage(scenario):
    wh, _ = scenario
    assert details(wh, "opp_forecast_category_mismatch") == {
        ("O3", "Proposal/Price Quote")
    }  # null FC (O10) ignored


def test_stale_open_opportunities(scenario):
    wh, _ = scenario
    assert offenders(wh, "opp_stale") == {"O4", "O9"}  # O1 is exactly at the 30-day limit


def test_missing_next_step(scenario):
    wh, _ = scenario
    assert offenders(wh, "opp_missing_next_step") == {"O4"}  # blank counts as missing; O1 is stage 1


def test_amount_bounds(scenario):
    wh, _ = scenario
    assert details(wh, "opp_amount_invalid") == {("O5", "outlier"), ("O8", "non_positive")}


def test_picklists(scenario):
    wh, _ = scenario
    assert details(wh, "opp_invalid_picklist") == {("O5", "Type"), ("O6", "LeadSource")}


def test_orphans(scenario):
    wh, _ = scenario
    assert offenders(wh, "opp_orphan_account") == {"O5"}
    assert offenders(wh, "opp_orphan_owner") == {"O7"}
    assert offenders(wh, "contact_orphan_account") == {"C3"}
    assert result(wh, "contact_orphan_account")["evaluated"] == 4  # C5 has no AccountId


def test_bookings(scenario):
    wh, _ = scenario
    assert offenders(wh, "booking_missing") == {"O7"}
    assert offenders(wh, "booking_amount_mismatch") == {"O6"}
    assert details(wh, "booking_orphan") == {("B3", "O404")}


def test_reconciliation_by_fiscal_quarter(scenario):
    wh, _ = scenario
    # FY2027-Q3 = Aug-Oct 2026: CRM won 6,001,300 vs booked 6,000,460 -> |840| / 6,000,460 (the
    # registry's formula: share of finance) = 0.014 % (under 2 %)
    r = result(wh, "reconciliation_variance", "period", "FY2027-Q3")
    assert r["failed"] == 0 and r["value"] == pytest.approx(840 / 6_000_460 * 100, rel=1e-12)


# --- lead checks -----------------------------------------------------------------------------


def test_routing(scenario):
    wh, _ = scenario
    assert offenders(wh, "lead_unassigned") == {"L4"}
    assert details(wh, "lead_misrouted") == {("L2", "expected EMEA-ENT, owner team AMER-SMB")}
    assert result(wh, "lead_misrouted")["evaluated"] == 7  # assigned leads a rule covers (L9 is not)
    assert offenders(wh, "lead_sla_breach") == {"L3"}
    seg = result(wh, "lead_sla_breach", "segment", "MM")
    assert (seg["evaluated"], seg["failed"], seg["passed"]) == (2, 1, False)


def test_email_format(scenario):
    wh, _ = scenario
    assert offenders(wh, "lead_invalid_email") == {"L6"}
    assert offenders(wh, "contact_invalid_email") == {"C2"}  # C5's empty email is not "invalid"


def test_duplicates(scenario):
    wh, _ = scenario
    rows = wh.query(
        "select check_id, record_id, related_id, detail from quality.run_exception "
        "where run_id = 'r1' and check_id like '%duplicate' order by 1, 2"
    )
    assert [(r["check_id"], r["record_id"], r["related_id"], r["detail"]) for r in rows] == [
        ("account_duplicate", "A2", "A1", "fuzzy:company_suffix"),
        ("account_duplicate", "A4", "A3", "fuzzy:typo"),
        ("contact_duplicate", "C4", "C1", "fuzzy:case"),
        ("lead_duplicate", "L7", "L1", "fuzzy:email_alias"),
    ]
    r = result(wh, "lead_duplicate")
    assert r["value"] == pytest.approx(1000 / 10)


def test_key_integrity_and_freshness_pass(scenario):
    wh, _ = scenario
    assert result(wh, "key_integrity", obj="Opportunity")["failed"] == 0
    assert result(wh, "source_freshness")["failed"] == 0


# --- results, scopes, queue, scorecard ---------------------------------------------------------


def test_scopes_and_exception_enrichment(scenario):
    wh, _ = scenario
    team = result(wh, "opp_stale", "team", "AMER-SMB")
    assert (team["evaluated"], team["failed"]) == (5, 1)  # open AMER-SMB opps: O1 O2 O3 O4 O10
    row = wh.query(
        "select owner_id, manager_id, team, region from quality.exception_queue "
        "where check_id = 'opp_stale' and record_id = 'O9'"
    )[0]
    assert row == {"owner_id": "U2", "manager_id": "M1", "team": "EMEA-ENT", "region": "EMEA"}


def test_scorecard(scenario):
    wh, _ = scenario
    rows = {
        r["metric"]: r
        for r in wh.query("select * from quality.scorecard where run_id='r1' and scope_type='all'")
    }
    assert rows["required_field_completeness"]["value"] == pytest.approx(7 / 10)
    assert rows["forecast_category"]["value"] == pytest.approx(9 / 10)
    assert rows["routing_accuracy"]["value"] == pytest.approx(6 / 7)
    assert rows["routing_sla"]["value"] == pytest.approx(6 / 7)  # L9 has no segment, so no SLA
    # 10 leads created in the last 90 days, one duplicate -> 100 per 1,000 (target < 5: not met)
    assert rows["duplicates_per_1000_new_leads"]["value"] == pytest.approx(100.0)
    assert rows["duplicates_per_1000_new_leads"]["met"] is False


# --- gate and the queue over runs ----------------------------------------------------------------


def test_gate_blocks_on_orphan_owner_blocker(scenario):
    from salesops.quality.gate import QualityGateFailed, enforce_gate

    wh, summary = scenario
    assert summary.gate_passed is False
    assert [b["check_id"] for b in summary.blockers_failed] == ["opp_orphan_owner"]
    with pytest.raises(
        QualityGateFailed, match=r"opp_orphan_owner \(Opportunity\): 1 of 10 failed .*sample ids: O7"
    ):
        enforce_gate(wh, "r1")
    assert wh.scalar("select status from quality.run where run_id = 'r1'") == "gate_failed"
    # warns are recorded and named, but do not block
    assert "opp_stale" in {w["check_id"] for w in summary.warns_failed}


def test_fixed_record_leaves_queue_and_gate_passes(scenario):
    from salesops.quality.gate import enforce_gate
    from salesops.quality.runner import run_quality

    wh, _ = scenario
    wh.execute("update staging.stg_crm__opportunity set owner_id = 'U1' where id = 'O7'")
    wh.execute(
        "update staging.stg_crm__opportunity set last_activity_date = date '2026-10-30' where id = 'O4'"
    )
    mark_loaded(wh, AS_OF + timedelta(days=2))
    summary = run_quality(wh, run_id="r2", build_docs=False)
    assert summary.gate_passed, summary.gate_message
    assert enforce_gate(wh, "r2").passed
    q = {(r["check_id"], r["record_id"]): r for r in wh.query("select * from quality.exception_queue")}
    assert q[("opp_orphan_owner", "O7")]["status"] == "resolved"
    assert q[("opp_orphan_owner", "O7")]["resolved_run_id"] == "r2"
    assert q[("opp_stale", "O4")]["status"] == "resolved"
    # still broken: stays open, first seen on run 1, last seen on run 2 -> two days old
    stale = q[("opp_stale", "O9")]
    assert (stale["status"], stale["first_run_id"], stale["last_run_id"]) == ("open", "r1", "r2")
    aged = wh.query(
        "select age_days from quality.v_open_exceptions where check_id = 'opp_stale' and record_id = 'O9'"
    )
    assert aged == [{"age_days": 2}]
    assert "O7" not in offenders(wh, "opp_orphan_owner", "r2")


def test_rerun_same_run_id_is_idempotent(scenario):
    from salesops.quality.runner import run_quality

    wh, _ = scenario
    before = wh.scalar("select count(*) from quality.check_result where run_id = 'r2'")
    queue = wh.query("select * from quality.exception_queue order by check_id, record_id, detail")
    run_quality(wh, run_id="r2", build_docs=False)
    assert wh.scalar("select count(*) from quality.check_result where run_id = 'r2'") == before
    assert wh.query("select * from quality.exception_queue order by check_id, record_id, detail") == queue


def test_stale_sync_is_a_blocker(scenario):
    from salesops.quality.runner import run_quality

    wh, _ = scenario
    # the opportunity extract stopped 3 days before the others: 72 h behind > 26 h window
    mark_loaded(wh, AS_OF + timedelta(days=2), {"opportunity": AS_OF - timedelta(days=1)})
    summary = run_quality(wh, run_id="r3", build_docs=False)
    assert not summary.gate_passed
    # judged: the 8 objects this scenario has records for (an object loaded with no records is
    # not in the export: nothing to be fresh, so it is not counted)
    assert "source_freshness (LoadAudit): 1 of 8 failed" in summary.gate_message
    r = result(wh, "source_freshness", "object", "opportunity", run_id="r3")
    assert r["value"] == pytest.approx(72.0) and not r["passed"]
    assert details(wh, "source_freshness", "r3") == {
        ("opportunity", "72.0h since last successful load > window 26h")
    }


# --- edge cases ---------------------------------------------------------------------------------


def test_empty_warehouse_without_loads_needs_as_of(tmp_path):
    from salesops.quality.runner import QualityError, run_quality

    wh = new_warehouse(tmp_path)
    with pytest.raises(QualityError, match="no batch with status 'loaded'"):
        run_quality(wh, build_docs=False)


def test_empty_tables_evaluate_nothing_and_fail_nothing_but_freshness(tmp_path):
    from salesops.quality.runner import run_quality

    wh = new_warehouse(tmp_path)
    mark_loaded(wh)
    summary = run_quality(wh, run_id="e1", build_docs=False)
    rows = wh.query(
        "select check_id, evaluated, failed, rate, passed, status, reason from quality.check_result "
        "where scope_type = 'all' and check_id <> 'source_freshness'"
    )
    # nothing loaded: every check is not evaluated (never "passed"), with the reason
    assert rows and all(
        r["evaluated"] == 0
        and r["failed"] == 0
        and r["rate"] is None
        and r["passed"] is None
        and r["status"] == "not_evaluated"
        and r["reason"].startswith("no ")
        for r in rows
    )
    assert summary.gate_passed
    assert wh.scalar("select count(*) from quality.exception_queue") == 0


def test_one_row_tables_with_nulls_and_unicode(tmp_path):
    from salesops.quality.runner import run_quality

    wh = new_warehouse(tmp_path)
    insert(wh, "opportunity", [{"id": "Ø1", "name": "Ünïcode — deal", "stage_name": None, "owner_id": None}])
    insert(wh, "lead", [{"id": "Ł1", "first_name": "Þóra", "last_name": "Ñúñez", "email": "þóra@例え.jp"}])
    insert(wh, "account", [{"id": "Å1", "name": "株式会社テスト"}])
    mark_loaded(wh)
    run_quality(wh, run_id="u1", build_docs=False)
    got = {
        (r["check_id"], r["record_id"], r["detail"])
        for r in wh.query("select check_id, record_id, detail from quality.run_exception where run_id = 'u1'")
    }
    # unknown stage: no stage rule applies; picklists ignore nulls; the non-ASCII email breaks the
    # ASCII pattern of hygiene.yaml; an unassigned unconverted lead is unassigned
    assert got == {("lead_invalid_email", "Ł1", ""), ("lead_unassigned", "Ł1", "")}


def test_key_integrity_with_a_repeated_id_groups_the_population(tmp_path):
    """A batch whose ids repeat is grouped by record (one population row per id, the repeated id
    failed once); a batch with one row per id is taken as it stands (the key suite's own counts
    say so)."""
    from salesops.quality.expectations import ExpectationSpec
    from salesops.quality.runner import _ids_unique_from_specs, run_quality

    wh = new_warehouse(tmp_path)
    insert(
        wh, "opportunity", [{"id": "O1", "name": "a"}, {"id": "O1", "name": "b"}, {"id": "O2", "name": "c"}]
    )
    insert(wh, "lead", [_lead("L1"), _lead("L2")])
    mark_loaded(wh)
    run_quality(wh, run_id="k1", build_docs=False)
    opp = result(wh, "key_integrity", run_id="k1", obj="Opportunity")
    assert (opp["evaluated"], opp["failed"]) == (2, 1)
    lead = result(wh, "key_integrity", run_id="k1", obj="Lead")
    assert (lead["evaluated"], lead["failed"]) == (2, 0)
    assert details(wh, "key_integrity", run_id="k1") == {("O1", "duplicate id")}

    keys = [
        ExpectationSpec("key_integrity", "missing id", "not_null", "record_id"),
        ExpectationSpec("key_integrity", "duplicate id", "unique", "record_id"),
    ]
    known = _ids_unique_from_specs(keys)
    assert known([0, 0]) is True
    assert known([0, 2]) is False and known([1, 0]) is False
    rules = [ExpectationSpec("lead_unassigned", "", "not_null", "owner_id")]
    assert _ids_unique_from_specs(rules) is None  # counted in gx_counts.sql instead


def test_population_by_record_only_where_the_scorecard_combines_records(tmp_path, monkeypatch):
    """A check's evaluated records are written a row per record only when the scorecard needs
    them so (pipeline_hygiene's members: each record once over four checks; duplicates per 1,000
    new leads: created_at); every other outcome is counted by scope and failed
    (work_population_count), and its check_result and one-check scorecard rows are the same
    counts."""
    from salesops.quality import runner
    from salesops.quality.catalogue import load_config

    wh = new_warehouse(tmp_path)
    seed_scenario(wh)
    seen: dict[str, list[dict]] = {}
    real_run = runner._Work.run

    def spy(self, relpath, params=None, **jinja):
        if relpath == "quality/work/drop.sql":  # the run's work tables, just before they go
            for table in ("work_outcome", "work_population", "work_population_count"):
                seen[table] = self.query("quality/work/select_batch.sql", batch=f"quality.{table}")
        return real_run(self, relpath, params, **jinja)

    monkeypatch.setattr(runner._Work, "run", spy)
    runner.run_quality(wh, run_id="p1", build_docs=False)
    check_of = {r["outcome"]: r["check_id"] for r in seen["work_outcome"]}
    by_record = {check_of[r["outcome"]] for r in seen["work_population"]}
    counted = {check_of[r["outcome"]] for r in seen["work_population_count"]}
    assert by_record == {
        "opp_past_close_date",
        "opp_close_date_pushed",
        "opp_stale",
        "opp_missing_next_step",
        "lead_duplicate",
    }
    assert runner._population_by_record(load_config()) == by_record
    counted_too = {
        "lead_misrouted",
        "lead_sla_breach",
        "key_integrity",
        "opp_orphan_owner",
        "contact_duplicate",
    }
    assert counted_too <= counted
    assert not by_record & counted
    # the counted rows are the records: check_result's company-wide figures are their sums
    for check in ("lead_misrouted", "lead_sla_breach", "opp_forecast_category_mismatch", "contact_duplicate"):
        rows = [r for r in seen["work_population_count"] if check_of[r["outcome"]] == check]
        res = result(wh, check, run_id="p1")
        assert (res["evaluated"], res["failed"]) == (
            sum(r["records"] for r in rows),
            sum(r["records"] for r in rows if r["failed"]),
        )
    team = result(wh, "lead_misrouted", "team", "AMER-SMB", run_id="p1")
    rows = [
        r
        for r in seen["work_population_count"]
        if check_of[r["outcome"]] == "lead_misrouted" and r["team"] == "AMER-SMB"
    ]
    assert team["evaluated"] == sum(r["records"] for r in rows) > 0
    card = wh.query("select * from quality.scorecard where run_id = 'p1' and scope_type = 'all'")
    assert {r["metric"]: r["value"] for r in card}["routing_accuracy"] == pytest.approx(6 / 7)


# --- tickets --------------------------------------------------------------------------------------


def test_ticket_drafts_for_blocker_and_sla_collapse(tmp_path):
    from salesops.quality.runner import run_quality
    from salesops.quality.tickets import draft_tickets

    wh = new_warehouse(tmp_path)
    seed_scenario(wh)
    # SLA collapse in MM: 6 of 7 MM leads assigned after 12 h (SLA 8 h); EMEA/SMB leads fine
    insert(
        wh,
        "lead",
        [
            _lead(
                f"M{i}",
                country="Japan",
                number_of_employees=500,
                owner_id="U3",
                email=f"m{i}@mm{i}.example",
                assigned_at="2026-10-20 20:00:00",
            )
            for i in range(6)
        ],
    )
    run_quality(wh, run_id="t1", build_docs=False)
    tickets = {(t["rule"], t["scope_type"], t["scope_value"]): t for t in draft_tickets(wh, "t1")}
    assert set(tickets) == {
        ("blocker_failed", "all", "all"),
        ("routing_sla_collapse", "segment", "MM"),
        ("routing_sla_collapse", "region", "APAC"),
    }
    sla = tickets[("routing_sla_collapse", "segment", "MM")]
    assert (sla["impact_count"], sla["example_ids"]) == (7, "L3,M0,M1,M2,M3,M4,M5")
    body = Path(sla["path"]).read_text()
    assert "**7** of 8 evaluated (87.5 %" in body
    assert "where failed and segment = 'MM';" in body and "sla_hours * 3600" in body
    blocker = tickets[("blocker_failed", "all", "all")]
    assert blocker["check_id"] == "opp_orphan_owner" and blocker["pipeline_amount"] == 800.0
    assert wh.scalar("select count(*) from quality.ticket where run_id = 't1'") == 3
    # the reproduce SQL runs and returns exactly the offenders
    import re as _re

    sql_text = _re.search(r"```sql\n(.*?)```", body, _re.S).group(1).strip().rstrip(";")
    got = {r["record_id"] for r in wh.query(sql_text)}
    assert got == {"L3", "M0", "M1", "M2", "M3", "M4", "M5"}
