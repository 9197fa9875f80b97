"""Each domain rule has one definition, and every job that uses it gets the same answer.

As-of: ``salesops.as_of.data_as_of`` over the view ``ops.v_as_of``; the quality run, the KPI build,
the pack checks and the bulk-update plans all resolve to the same instant (the loader calls it).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from salesops import sql
from salesops.as_of import data_as_of, load_finished_at
from salesops.bulk_update.plan import plan_as_of
from salesops.kpis import runner as kpi_runner
from salesops.packs.checks import load_as_of as pack_as_of
from salesops.quality.runner import resolve_as_of as quality_as_of
from salesops.warehouse.core import Warehouse
from salesops.warehouse.schema import ensure_object_tables


@pytest.fixture
def wh(tmp_path):
    w = Warehouse("duckdb:///" + str(tmp_path / "w.duckdb"))
    ensure_object_tables(w)
    return w


def _audit(wh, batch_id, until, status, finished):
    wh.execute(
        "insert into ops.load_audit (batch_id, object, source, until, status, finished_at) values "
        f"('{batch_id}', 'opportunity', 'demo', timestamp '{until}', '{status}', timestamp '{finished}')"
    )


def test_every_job_resolves_the_same_as_of(wh):
    assert data_as_of(wh) is None and pack_as_of(wh) is None and kpi_runner.extracted_at(wh) is None
    _audit(wh, "a", "2026-11-18 06:00:00", "loaded", "2026-11-18 06:05:00")
    _audit(wh, "b", "2026-11-20 09:30:00", "loaded", "2026-11-20 09:41:00")
    # a later batch that failed or is only landed does not move "now"
    _audit(wh, "c", "2026-11-21 09:30:00", "failed", "2026-11-21 09:31:00")
    _audit(wh, "d", "2026-11-22 09:30:00", "landed", "2026-11-22 09:31:00")

    expected = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert data_as_of(wh) == expected
    assert load_finished_at(wh) == datetime(2026, 11, 20, 9, 41, tzinfo=UTC)
    assert plan_as_of(wh, "opportunity") == expected
    naive = expected.replace(tzinfo=None)
    assert quality_as_of(wh) == naive
    assert pack_as_of(wh) == naive
    assert kpi_runner.extracted_at(wh) == naive
    assert kpi_runner.resolve_as_of(wh).as_of_ts == naive
    # the SQL form every query selects from
    assert wh.query("select as_of, load_finished_at from ops.v_as_of") == [
        {"as_of": naive, "load_finished_at": datetime(2026, 11, 20, 9, 41)}
    ]


def test_no_sql_file_computes_the_as_of_itself():
    # max(until) over all loaded batches is the as-of; per-object maxima (freshness, grouped by
    # object) are a different figure and allowed.
    offenders = []
    for path in sql.sql_path("").rglob("*.sql"):
        text = " ".join(path.read_text().lower().split())
        if "max(until)" in text and "from ops.load_audit" in text and "group by" not in text:
            offenders.append(path.relative_to(sql.sql_path("")).as_posix())
    assert offenders == ["load/create_tables.sql"]
    assert "ops.v_as_of" in sql.sql_path("packs/context.sql").read_text()


@pytest.mark.parametrize("start_month", [1, 2, 4, 11])
def test_fiscal_quarter_end_of_plans_is_the_calendars(start_month):
    from datetime import date, timedelta

    from salesops.bulk_update.plan import fiscal_quarter_end
    from salesops.kpis.fiscal import fiscal_day

    day = date(2025, 1, 1)
    while day < date(2027, 3, 1):
        assert fiscal_quarter_end(day, start_month) == fiscal_day(day, start_month).fiscal_quarter_end, day
        day += timedelta(days=1)


def test_the_demo_calendar_is_the_fiscal_calendar():
    from salesops.kpis.fiscal import fiscal_day
    from salesops_demo import calendar as demo_cal

    # hand-computed, fiscal year from February: Q4 of FY2027 is 2026-11-01 .. 2027-01-31
    assert demo_cal.quarter_start(date(2027, 1, 31)) == date(2026, 11, 1)
    assert demo_cal.quarter_start(date(2026, 2, 1)) == date(2026, 2, 1)
    assert demo_cal.add_quarters(date(2026, 11, 1), 1) == date(2027, 2, 1)
    assert demo_cal.add_quarters(date(2026, 11, 1), -4) == date(2025, 11, 1)
    day = date(2025, 12, 1)
    while day < date(2027, 3, 1):
        assert demo_cal.quarter_start(day) == fiscal_day(day, 2).fiscal_quarter_start, day
        day += timedelta(days=1)


# --------------------------------------------------------------------------------------------
# One warehouse, written by hand (not by the project's generators), through the quality run and
# the KPI build: the fiscal quarter and the lead routing each job reports must agree, and be the
# hand-computed answer. Policy as shipped: the fiscal year starts on 1 February (calendar.yaml).

# close date (= booking date) -> fiscal quarter, by hand: FY2027 = 2026-02-01 .. 2027-01-31
BOUNDARY_QUARTERS = {
    date(2026, 1, 31): "FY2026-Q4",
    date(2026, 2, 1): "FY2027-Q1",
    date(2026, 4, 30): "FY2027-Q1",
    date(2026, 5, 1): "FY2027-Q2",
    date(2026, 7, 31): "FY2027-Q2",
    date(2026, 8, 1): "FY2027-Q3",
    date(2026, 10, 31): "FY2027-Q3",
    date(2026, 11, 1): "FY2027-Q4",
    date(2027, 1, 31): "FY2027-Q4",
    date(2027, 2, 1): "FY2028-Q1",
}
AS_OF = datetime(2027, 2, 3, 12, 0)
T0 = datetime(2027, 1, 10, 9, 0)

# Leads in the United States (AMER): id -> (employees, Segment__c, owner, hours to assignment).
# Segment by hand: the band of NumberOfEmployees (SMB 0+, MM 200+, ENT 2000+), Segment__c only
# when the employee count is empty. SLA hours SMB 24, MM 8, ENT 4 (territories.yaml).
LEADS = {
    "00QTL0000000001": (50, "SMB", "005TU00000000S1", 10),  # SMB, 10h <= 24h: met
    "00QTL0000000002": (
        None,
        "ENT",
        "005TU00000000S1",
        6,
    ),  # ENT from Segment__c, 6h > 4h: breached, misrouted
    "00QTL0000000003": (None, "MM", "005TU00000000M1", 5),  # MM from Segment__c, 5h <= 8h: met
    "00QTL0000000004": (5000, "SMB", "005TU00000000E1", 6),  # ENT by employees (Segment__c ignored): breached
    "00QTL0000000005": (300, None, "005TU00000000M1", 10),  # MM, 10h > 8h: breached
    "00QTL0000000006": (None, None, "005TU00000000S1", 100),  # no segment: no SLA, cannot be routed
}
# Two open deals without the CRM's IsClosed/IsWon (open by their stage, stages.yaml): one past its
# close date with recent activity, one without any activity since 2025 (stale). Closed Won deal 3
# above has no flags either: closed by its stage for quality, marts, packs and plans alike.
OPEN_PAST_DUE = "006TP0000000001"
OPEN_STALE = "006TP0000000002"
CLOSED_BY_STAGE = "006TO0000000003"
USERS = {"005TU00000000S1": "AMER-SMB", "005TU00000000M1": "AMER-MM", "005TU00000000E1": "AMER-ENT"}
EXPECTED_BREACHED = {"00QTL0000000002", "00QTL0000000004", "00QTL0000000005"}
EXPECTED_MET = {"00QTL0000000001", "00QTL0000000003"}


@pytest.fixture(scope="module")
def agreed(tmp_path_factory):
    import pandas as pd
    from tests.unit.test_kpis_reference import load_staging

    from salesops.quality.runner import run_quality

    w = Warehouse("duckdb:///" + str(tmp_path_factory.mktemp("one_def") / "w.duckdb"))
    ensure_object_tables(w)
    opps, bookings = [], []
    for i, day in enumerate(sorted(BOUNDARY_QUARTERS)):
        amount = float(1000 * 2**i)  # distinct powers of two: a quarter's sum names its deals
        opps.append(
            {
                "id": f"006TO{i:010d}",
                "name": f"Synthetic Deal {i}",
                "owner_id": "005TU00000000S1",
                "stage_name": "Closed Won",
                "amount": amount,
                "probability": 100.0,
                "close_date": day,
                "forecast_category": "Closed",
                "type": "New Business",
                # one deal without the CRM's flags: closed-won by its stage (stages.yaml), the
                # same for quality, marts and packs (rules.sql is_won)
                "is_closed": None if i == 3 else True,
                "is_won": None if i == 3 else True,
                "created_at": datetime(2025, 6, 1),
                "system_modstamp": datetime(2027, 2, 1),
            }
        )
        bookings.append(
            {
                "id": f"a0BTB{i:010d}",
                "opportunity_id": f"006TO{i:010d}",
                "booking_date": day,
                "amount": amount + 10,
                "booking_type": "New Business",
                "system_modstamp": datetime(2027, 2, 1),
            }
        )
    for oid, stage, close, activity in (
        (OPEN_PAST_DUE, "Prospecting", date(2027, 1, 15), date(2027, 1, 30)),
        (OPEN_STALE, "Qualification", date(2027, 3, 31), None),
    ):
        opps.append(
            {
                "id": oid,
                "name": f"Synthetic Open Deal {oid[-1]}",
                "owner_id": "005TU00000000S1",
                "stage_name": stage,
                "amount": 500.0,
                "probability": 10.0,
                "close_date": close,
                "forecast_category": "Pipeline",
                "type": "New Business",
                "is_closed": None,
                "is_won": None,
                "last_activity_date": activity,
                "created_at": datetime(2025, 6, 1),
                "system_modstamp": datetime(2027, 2, 1),
            }
        )
    users = [
        {"id": uid, "name": f"Synthetic Rep {team}", "email": f"{uid}@example.com", "team": team,
         "region": "AMER", "segment": team.split("-")[1], "is_active": True, "created_at": datetime(2025, 1, 1)}
        for uid, team in USERS.items()
    ]  # fmt: skip
    leads = [
        {
            "id": lid,
            "company": f"Synthetic Co {lid[-1]}",
            "email": f"lead{lid[-1]}@example.com",
            "country": "United States",
            "number_of_employees": emp,
            "region": "AMER",
            "segment": seg,
            "status": "Working",
            "owner_id": owner,
            "created_at": T0,
            "assigned_at": T0 + timedelta(hours=hours),
            "is_converted": False,
            "system_modstamp": T0 + timedelta(days=1),
        }
        for lid, (emp, seg, owner, hours) in LEADS.items()
    ]
    load_staging(
        w,
        {
            "stg_crm__opportunity": pd.DataFrame(opps),
            "stg_finance__booking": pd.DataFrame(bookings),
            "stg_crm__user": pd.DataFrame(users),
            "stg_crm__lead": pd.DataFrame(leads),
        },
    )
    w.execute(
        "insert into ops.load_audit (batch_id, object, source, until, status) "
        "values ('b1', 'opportunity', 'test', :u, 'loaded')",
        {"u": AS_OF},
    )
    quality = run_quality(w, run_id="one-definition", build_docs=False)
    kpi_runner.build(w)
    return w, quality


def test_quality_plans_marts_and_packs_agree_on_fiscal_quarters_and_closed_won(agreed):
    from salesops.bulk_update.plan import fiscal_quarter_end
    from salesops.config import policy
    from salesops.quality.catalogue import load_config, policy_context
    from salesops.quality.runner import _db

    wh, _ = agreed
    start_month = policy("calendar")["fiscal_year_start_month"]
    assert start_month == 2  # a non-January fiscal year: the case where copies used to disagree
    amounts = sorted(BOUNDARY_QUARTERS)
    expected: dict[str, float] = {}
    for i, day in enumerate(amounts):
        expected[BOUNDARY_QUARTERS[day]] = expected.get(BOUNDARY_QUARTERS[day], 0.0) + 1000 * 2**i

    # quality: the reconciliation check's fiscal quarters (CRM and finance side)
    rec = _db.fetch_df(wh, "quality/reconciliation.sql", **policy_context(load_config()))
    assert {r.period: float(r.crm_amount) for r in rec.itertuples()} == expected
    assert {r.period: float(r.booked_amount) for r in rec.itertuples()} == {
        q: v + 10 * sum(1 for d in amounts if BOUNDARY_QUARTERS[d] == q) for q, v in expected.items()
    }
    # marts: the reconciliation mart and the quarter of every close date in the calendar table
    mart = wh.query(
        "select period_label, crm_bookings_amount from marts.agg_bookings_reconciliation "
        "where period_grain = 'fiscal_quarter' and crm_bookings_count > 0"
    )
    assert {r["period_label"]: float(r["crm_bookings_amount"]) for r in mart} == expected
    # packs: the pack check's warehouse total per quarter
    packs = wh.query(sql.render("packs/checks/crm_bookings.sql"))
    assert {r["period_label"]: float(r["crm_bookings_amount"]) for r in packs} == expected
    # plans: the quarter end a close date is moved to is the calendar's end of that day's quarter
    cal = {
        r["date_day"]: r
        for r in wh.query(
            "select date_day, fiscal_quarter_label, fiscal_quarter_end from marts.dim_fiscal_calendar "
            "where date_day in (" + ", ".join(f"date '{d}'" for d in amounts) + ")"
        )
    }
    for day, label in BOUNDARY_QUARTERS.items():
        assert cal[day]["fiscal_quarter_label"] == label, day
        assert fiscal_quarter_end(day, start_month) == cal[day]["fiscal_quarter_end"], day
    # quality's result rows carry the same labels
    checked = {
        r["scope_value"]
        for r in wh.query(
            "select scope_value from quality.check_result where check_id = 'reconciliation_variance' "
            "and scope_type = 'period' and run_id = 'one-definition'"
        )
    }
    assert checked == set(expected)


def test_routing_sla_of_the_scorecard_and_the_speed_to_lead_kpi_agree(agreed):
    wh, _ = agreed
    # quality: lead_sla_breach failures and the scorecard's routing_sla (assigned within the SLA)
    results = wh.query(
        "select record_id from quality.run_exception where check_id = 'lead_sla_breach' "
        "and run_id = 'one-definition'"
    )
    assert {r["record_id"] for r in results} == EXPECTED_BREACHED
    card = wh.query(
        "select numerator, denominator, value from quality.scorecard where run_id = 'one-definition' "
        "and metric = 'routing_sla' and scope_type = 'all'"
    )
    assert card == [{"numerator": 2.0, "denominator": 5.0, "value": pytest.approx(2 / 5)}]
    # KPI: the speed-to-lead fact and the routing SLA compliance rate
    fct = {r["lead_id"]: r for r in wh.query("select * from marts.fct_lead_speed_to_lead")}
    assert {k for k, r in fct.items() if r["sla_status"] == "breached"} == EXPECTED_BREACHED
    assert {k for k, r in fct.items() if r["sla_status"] == "met"} == EXPECTED_MET
    assert fct["00QTL0000000002"]["segment"] == "ENT" and fct["00QTL0000000004"]["segment"] == "ENT"
    assert fct["00QTL0000000006"]["sla_status"] == "no_sla"
    agg = wh.query(
        "select sum(sla_met_count) as met, sum(sla_breached_count) as breached from marts.agg_speed_to_lead"
    )[0]
    assert (agg["met"], agg["breached"]) == (2, 3)
    # routing: the misrouted check uses the same segment (Segment__c when employees are empty)
    misrouted = wh.query(
        "select record_id, detail from quality.run_exception where check_id = 'lead_misrouted' "
        "and run_id = 'one-definition'"
    )
    assert misrouted == [{"record_id": "00QTL0000000002", "detail": "expected AMER-ENT, owner team AMER-SMB"}]
    routed = {r["lead_id"]: r for r in wh.query("select * from marts.int_lead_routed")}
    assert routed["00QTL0000000002"]["expected_team"] == "AMER-ENT"
    assert routed["00QTL0000000006"]["routing_segment"] is None


def _exceptions(wh, check_id):
    rows = wh.query(
        "select record_id from quality.run_exception where check_id = :c and run_id = 'one-definition'",
        {"c": check_id},
    )
    return {r["record_id"] for r in rows}


def test_plans_route_leads_and_tell_open_deals_as_quality_and_kpis_do(agreed):
    """The bulk-update plans use the one lead routing (int_lead_routed: Segment__c when the employee
    count is empty) and the one closed rule (rules.sql is_closed: the stage policy when IsClosed is
    empty), so a plan proposes exactly the records the quality checks flag and the marts agree."""
    import dataclasses

    from salesops.bulk_update.plan import build_plan as build
    from salesops.bulk_update.settings import load_settings

    def build_plan(wh, name, **kw):
        # a warehouse of a few records: every plan is a large share of its object (max_share guard)
        s = load_settings()
        pt = dataclasses.replace(s.plan_types[name], max_share=1.0)
        return build(wh, name, settings=dataclasses.replace(s, plan_types={**s.plan_types, name: pt}), **kw)

    wh, _ = agreed
    # lead 2: no employee count, Segment__c ENT, owned by an AMER-SMB rep
    routed = {r["lead_id"]: r for r in wh.query("select * from marts.int_lead_routed")}
    assert routed["00QTL0000000002"]["expected_team"] == "AMER-ENT"
    assert _exceptions(wh, "lead_misrouted") == {"00QTL0000000002"}
    leads = build_plan(wh, "reassign_leads", requester="analyst-one-def", write_artifacts=False)
    assert [(r.record_id, r.field, r.before_value, r.after_value) for r in leads.changes] == [
        ("00QTL0000000002", "OwnerId", "005TU00000000S1", "005TU00000000E1")  # the AMER-ENT rep
    ]
    guards = {r.field: r.before_value for r in leads.rows if r.role == "guard"}
    assert guards == {"Country": "United States", "NumberOfEmployees": None, "Segment__c": "ENT"}
    q = leads.scope["quality"]
    assert (q["plan_records_not_in_queue"], q["unfixed_open_exceptions"]) == (0, 0)

    # deals without IsClosed: open or closed by their stage, the same in quality, marts and plans
    enriched = {
        r["opportunity_id"]: r["is_open"]
        for r in wh.query("select opportunity_id, is_open from marts.int_opportunity_enriched")
    }
    assert (enriched[OPEN_PAST_DUE], enriched[OPEN_STALE], enriched[CLOSED_BY_STAGE]) == (True, True, False)
    assert _exceptions(wh, "opp_past_close_date") == {OPEN_PAST_DUE}
    assert _exceptions(wh, "opp_stale") == {OPEN_STALE}
    moved = build_plan(wh, "move_past_close_dates", requester="analyst-one-def", write_artifacts=False)
    assert {r.record_id for r in moved.changes} == {OPEN_PAST_DUE}
    assert moved.scope["quality"]["unfixed_open_exceptions"] == 0
    closed = build_plan(wh, "close_stale_opportunities", requester="analyst-one-def", write_artifacts=False)
    assert {r.record_id for r in closed.changes} == {OPEN_STALE}
    assert closed.scope["quality"]["unfixed_open_exceptions"] == 0


# where segment bands may be named: the one rule (rules.sql segment_band_join, used by
# int_lead_routed and the territory_change plan), and the DDL of the table it reads
LEAD_SEGMENT_HOMES = {"rules.sql", "reference/create_territory_tables.sql"}


def test_no_sql_file_writes_its_own_fiscal_quarter_or_lead_segment():
    offenders = []
    for path in sql.sql_path("").rglob("*.sql"):
        text = " ".join(path.read_text().lower().split())
        rel = path.relative_to(sql.sql_path("")).as_posix()
        if "'fy' ||" in text or ("month(" in text and "fiscal" in text and "dim_fiscal_calendar" not in text):
            offenders.append(rel)  # a fiscal period computed from a date instead of the calendar
        if "min_employees" in text and rel not in LEAD_SEGMENT_HOMES:
            offenders.append(rel)  # a segment band applied outside rules.sql (segment_band_join)
        if (
            rel.startswith("bulk_update/")
            and re.search(r"\bis_(closed|won)\b", text)
            and "rules.is_" not in text
        ):
            offenders.append(rel)  # a plan reading the CRM flag itself instead of rules.sql is_closed
        # (the quality_gaps_* files name which half of the rule a lead fails: "converted" / "status ...")
        if (
            rel.startswith("bulk_update/")
            and "is_converted" in text
            and rel != "bulk_update/_macros.sql"
            and not rel.startswith("bulk_update/quality_gaps_")
        ):
            offenders.append(rel)  # an open lead of its own instead of bulk_update/_macros.sql is_open_lead
    assert offenders == []


# rules.sql corporate_amounts: the only dated-rate pick (fct_pipeline_snapshot's history-rebuilt
# days convert through it too, one record per snapshot day and deal)
DATED_RATE_PICKS = {"rules.sql"}


def test_no_sql_file_converts_currency_or_scopes_a_quality_record_itself():
    offenders = []
    for path in sql.sql_path("").rglob("*.sql"):
        text = " ".join(path.read_text().lower().split())
        rel = path.relative_to(sql.sql_path("")).as_posix()
        if "dated_conversion_rate" in text and "row_number()" in text and rel not in DATED_RATE_PICKS:
            offenders.append(rel)  # a dated-rate pick of its own instead of rules.sql corporate_amounts
        if ("dated_rate_covers" in text or "to_corporate(" in text) and rel not in DATED_RATE_PICKS:
            offenders.append(rel)  # a conversion of its own from the rules' pieces
        if "coalesce(u.team, 'unknown')" in text and rel != "quality/_scope.sql":
            offenders.append(rel)  # an owner scope of its own instead of quality/_scope.sql owner_scoped
        if "min(c.owner_id)" in text or "min(b.owner_id)" in text or "min(owner_id)" in text:
            offenders.append(rel)  # a record's first scope of its own instead of first_scope
        if "product_code, min(id)" in text and rel != "_product_catalogue.sql":
            offenders.append(rel)  # a product-by-code lookup of its own instead of _product_catalogue.sql
    assert offenders == []


def test_a_plan_writes_the_territory_tables_only_when_they_differ_from_policy(wh):
    from salesops.reference import ensure_territories, territory_tables

    assert ensure_territories(wh) is True  # none yet: written
    want = territory_tables()
    rules = wh.query(
        "select rule_order, segment, region, team from marts.dim_routing_rule order by rule_order"
    )
    assert rules == want["dim_routing_rule"] and len(rules) >= 3
    assert ensure_territories(wh) is False  # already the policy: nothing rewritten
    wh.execute("delete from marts.dim_routing_rule where rule_order = 1")
    assert ensure_territories(wh) is True  # a stale table is rewritten
    assert wh.query("select count(*) as n from marts.dim_routing_rule") == [{"n": len(rules)}]
