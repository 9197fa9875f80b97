"""Independent pandas reference for the KPI marts, and a seeded synthetic staging generator.

The SQL models are checked against these functions (tests/unit/test_kpis_models.py on synthetic
data, tests/e2e/test_kpis_demo.py on the demo CRM). They re-implement each metric definition from
the registry directly over the staging tables, row by row where that is clearest, without the
models' intervals, seed tables or rollup tables. The tests at the bottom pin the reference itself
to hand-computed numbers.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd

STAGES = {  # name -> (order, probability, is_closed, is_won), as stages.yaml
    "Prospecting": (1, 10, False, False),
    "Qualification": (2, 20, False, False),
    "Needs Analysis": (3, 30, False, False),
    "Value Proposition": (4, 50, False, False),
    "Proposal/Price Quote": (5, 70, False, False),
    "Negotiation/Review": (6, 90, False, False),
    "Closed Won": (7, 100, True, True),
    "Closed Lost": (8, 0, True, False),
}
OPEN_STAGES = [s for s, v in STAGES.items() if not v[2]]
FC_FOR_STAGE = {
    "Prospecting": "Pipeline",
    "Qualification": "Pipeline",
    "Needs Analysis": "Pipeline",
    "Value Proposition": "Best Case",
    "Proposal/Price Quote": "Best Case",
    "Negotiation/Review": "Commit",
    "Closed Won": "Closed",
    "Closed Lost": "Omitted",
    "Legacy Stage": "Pipeline",
}
FY_START = 2
LEVELS = ["rep", "manager", "region", "segment", "company"]
EXCLUDED_LOSS = {"Duplicate", "Merged", "Unqualified"}
SLA = {"SMB": 24.0, "MM": 8.0, "ENT": 4.0}
FUNNEL = ["Lead", "MQL", "SQL", "Opportunity"]


# --- fiscal periods, computed differently from salesops.kpis.fiscal (month arithmetic) -----------


def fq_label(d) -> str | None:
    if d is None or pd.isna(d):
        return None
    d = pd.Timestamp(d)
    shifted = d.year * 12 + d.month - 1 - (FY_START - 1)  # months since year 0, fiscal-aligned
    fy = shifted // 12 + (1 if FY_START != 1 else 0)
    return f"FY{fy}-Q{(shifted % 12) // 3 + 1}"


def fm_label(d) -> str | None:
    if d is None or pd.isna(d):
        return None
    d = pd.Timestamp(d)
    shifted = d.year * 12 + d.month - 1 - (FY_START - 1)
    return f"FY{shifted // 12 + (1 if FY_START != 1 else 0)}-M{shifted % 12 + 1:02d}"


def fy_label(d) -> str | None:
    q = fq_label(d)
    return None if q is None else q.split("-")[0]


def quarter_bounds(d: date) -> tuple[date, date]:
    shifted = d.year * 12 + d.month - 1 - (FY_START - 1)
    first_month = shifted - shifted % 3 + (FY_START - 1)
    start = date(first_month // 12, first_month % 12 + 1, 1)
    nm = first_month + 3
    end = date(nm // 12, nm % 12 + 1, 1) - timedelta(days=1)
    return start, end


# --- synthetic staging ---------------------------------------------------------------------------


def _ts(d: datetime) -> datetime:
    return d.replace(microsecond=0)


def make_staging(
    seed: int = 7, n_opps: int = 300, n_leads: int = 200, as_of: date = date(2027, 1, 20)
) -> dict[str, pd.DataFrame]:
    """A small, consistent company: users, quotas, opportunities with field history, line items,
    leads with lifecycle changes, finance bookings. Every history row's old_value is the previous
    value, so the as-of rebuild of the as-of day equals the current state."""
    rnd = random.Random(seed)
    end = datetime.combine(as_of, datetime.min.time()) + timedelta(hours=18)
    users = [
        dict(
            id="U-VP",
            name="Vp One",
            user_role="Regional VP",
            manager_id=None,
            region="AMER",
            segment="ENT",
            team="AMER-ENT",
        ),
        dict(
            id="U-M1",
            name="Mgr One",
            user_role="Sales Manager",
            manager_id="U-VP",
            region="AMER",
            segment="ENT",
            team="AMER-ENT",
        ),
        dict(
            id="U-M2",
            name="Mgr Two",
            user_role="Sales Manager",
            manager_id="U-VP",
            region="EMEA",
            segment="SMB",
            team="EMEA-SMB",
        ),
    ]
    for i in range(1, 7):
        mgr = "U-M1" if i <= 3 else "U-M2"
        region, segment = (
            ("AMER", ["ENT", "MM", "ENT"][i - 1]) if i <= 3 else ("EMEA", ["SMB", "MM", "SMB"][i - 4])
        )
        users.append(
            dict(
                id=f"U-A{i}",
                name=f"Rep {i}",
                user_role="Account Executive",
                manager_id=mgr,
                region=region,
                segment=segment,
                team=f"{region}-{segment}",
            )
        )
    for u in users:
        u.update(
            email=f"{u['id'].lower()}@example.test",
            is_active=True,
            created_at=datetime(2024, 1, 1),
            system_modstamp=datetime(2024, 1, 1),
        )
    reps = [u["id"] for u in users if u["user_role"] == "Account Executive"]

    cur_q = quarter_bounds(as_of)
    next_q = quarter_bounds(cur_q[1] + timedelta(days=1))
    quotas = []
    for qs in (cur_q[0], next_q[0]):
        team_sum = {"U-M1": Decimal(0), "U-M2": Decimal(0)}
        for r in reps:
            amt = Decimal(rnd.randrange(200, 600) * 1000)
            quotas.append(dict(id=f"Q-{r}-{qs}", owner_id=r, period_start=qs, quota_amount=amt))
            team_sum[next(u["manager_id"] for u in users if u["id"] == r)] += amt
        for m, amt in team_sum.items():
            quotas.append(dict(id=f"Q-{m}-{qs}", owner_id=m, period_start=qs, quota_amount=amt))
    for q in quotas:
        q["system_modstamp"] = datetime(2024, 1, 1)

    opps, hist, items, bookings = [], [], [], []
    hid = 0
    loss_reasons = ["Price", "Competitor", "No Decision", "Duplicate", "Timing", "Unqualified"]

    def add_hist(oid, field, old, new, at):
        nonlocal hid
        hid += 1
        hist.append(
            dict(
                id=f"H{hid:06d}", opportunity_id=oid, field=field, old_value=old, new_value=new, created_at=at
            )
        )

    for n in range(1, n_opps + 1):
        oid = f"O{n:05d}"
        created = _ts(end - timedelta(days=rnd.randrange(1, 420), minutes=rnd.randrange(0, 1440)))
        stage = "Prospecting"
        amount = Decimal(rnd.randrange(5, 400) * 500) if rnd.random() > 0.05 else None
        close = (created + timedelta(days=rnd.randrange(20, 200))).date()
        fc = FC_FOR_STAGE[stage]
        t = created
        for _ in range(rnd.randrange(0, 9)):
            t = _ts(t + timedelta(days=rnd.randrange(0, 25), hours=rnd.randrange(0, 20)))
            if t >= end:
                break
            kind = rnd.random()
            if STAGES.get(stage, (0, 0, False))[2]:
                break
            if kind < 0.45:
                order = STAGES[stage][0]
                if rnd.random() < 0.15:
                    new_stage = rnd.choice(["Closed Won", "Closed Lost"])
                elif rnd.random() < 0.2 and order > 1:
                    new_stage = OPEN_STAGES[order - 2]
                else:
                    new_stage = OPEN_STAGES[min(order, 5)]
                add_hist(oid, "StageName", stage, new_stage, t)
                stage = new_stage
                if FC_FOR_STAGE[stage] != fc:
                    add_hist(oid, "ForecastCategoryName", fc, FC_FOR_STAGE[stage], t)
                    fc = FC_FOR_STAGE[stage]
            elif kind < 0.8:
                new_close = close + timedelta(days=rnd.choice([-20, 15, 30, 45, 90]))
                add_hist(oid, "CloseDate", close.isoformat(), new_close.isoformat(), t)
                close = new_close
            else:
                new_amount = Decimal(rnd.randrange(5, 400) * 500)
                add_hist(oid, "Amount", None if amount is None else f"{amount:.2f}", f"{new_amount:.2f}", t)
                amount = new_amount
        if n % 37 == 0:
            add_hist(oid, "StageName", stage, "Legacy Stage", _ts(end - timedelta(hours=3)))
            stage = "Legacy Stage"  # not in stages.yaml: open, no order
        order, prob, closed, won = STAGES.get(stage, (None, 25, False, False))
        if n % 11 == 0 and not closed:
            prob = 35  # a rep's override of the stage default
        owner = rnd.choice(reps) if n % 53 else None
        opps.append(
            dict(
                id=oid,
                name=f"Deal {n}",
                account_id=f"A{n % 40:03d}",
                owner_id=owner,
                stage_name=stage,
                amount=amount,
                probability=float(prob),
                close_date=close if n % 61 else None,
                forecast_category=fc,
                next_step="call" if n % 3 else None,
                last_activity_date=None if n % 9 == 0 else as_of - timedelta(days=rnd.randrange(0, 60)),
                type=rnd.choice(["New Business", "Expansion", "Renewal"]) if n % 29 else None,
                lead_source=rnd.choice(["Web", "Event", "Partner"]),
                is_closed=closed,
                is_won=won,
                loss_reason=rnd.choice(loss_reasons) if closed and not won and n % 13 else None,
                last_bulk_update_plan=None,
                created_at=created,
                system_modstamp=created,
            )
        )
        if n % 61 == 0:
            # close date cleared later: history consistent with the None above
            add_hist(oid, "CloseDate", close.isoformat(), None, _ts(end - timedelta(hours=2)))
        if rnd.random() < 0.7:
            items.append(
                dict(
                    id=f"LI{n:05d}",
                    opportunity_id=oid,
                    product_code="P1",
                    product_name="Seat",
                    quantity=1.0,
                    unit_price=amount,
                    total_price=amount,
                    created_at=created,
                    system_modstamp=created,
                )
            )
        if won and rnd.random() < 0.85:
            bamt = amount if rnd.random() < 0.9 else (amount or Decimal(0)) + Decimal(1000)
            bookings.append(
                dict(
                    id=f"B{n:05d}",
                    opportunity_id=oid,
                    account_id=f"A{n % 40:03d}",
                    booking_date=close + timedelta(days=rnd.choice([0, 0, 0, 3])),
                    amount=bamt,
                    booking_type=opps[-1]["type"],
                    system_modstamp=created,
                )
            )
    # Deleted opportunities: their history remains, the record is gone from staging.
    for n in range(1, 4):
        oid = f"DEL{n}"
        add_hist(oid, "Amount", "1000.00", "2000.00", _ts(end - timedelta(days=40)))
    bookings.append(
        dict(
            id="B-ORPHAN",
            opportunity_id="O-NOT-THERE",
            account_id="A000",
            booking_date=as_of - timedelta(days=5),
            amount=Decimal("12345.67"),
            booking_type="New Business",
            system_modstamp=end,
        )
    )

    leads, changes = [], []
    countries = ["United States", "Germany", "Japan"]
    cid = 0
    for n in range(1, n_leads + 1):
        created = _ts(end - timedelta(days=rnd.randrange(0, 300), minutes=rnd.randrange(0, 1440)))
        emp = None if n % 17 == 0 else rnd.choice([10, 150, 199, 200, 1500, 1999, 2000, 9000])
        assigned = None if n % 7 == 0 else created + timedelta(minutes=rnd.randrange(5, 60 * 40))
        if assigned is not None and assigned > end:
            assigned = None
        touch = (
            None if (assigned is None or n % 5 == 0) else assigned + timedelta(minutes=rnd.randrange(1, 600))
        )
        depth = rnd.choice([1, 1, 2, 2, 3, 4])
        converted = depth == 4 and n % 2 == 0
        leads.append(
            dict(
                id=f"L{n:05d}",
                first_name="Lead",
                last_name=str(n),
                company=f"Co {n}",
                email=f"l{n}@example.test",
                phone=None,
                country=rnd.choice(countries),
                number_of_employees=emp,
                region=rnd.choice(["AMER", "EMEA"]),
                segment=rnd.choice(["SMB", "MM", "ENT"]),
                lead_source=rnd.choice(["Web", "Event", "Paid Search", None]),
                status="Open",
                owner_id=rnd.choice(reps) if assigned else None,
                assigned_at=assigned,
                first_touch_at=touch,
                is_converted=converted,
                converted_date=None,
                converted_account_id=None,
                converted_contact_id=None,
                converted_opportunity_id=f"O{n:05d}" if converted else None,
                last_bulk_update_plan=None,
                created_at=created,
                system_modstamp=created,
            )
        )
        prev = "Lead"
        stages = FUNNEL[1:depth] if not (depth == 4 and not converted) else FUNNEL[1:4]
        if n % 10 == 0 and len(stages) >= 2:
            stages = stages[1:]  # skipped MQL straight to SQL
        for k, s in enumerate(stages):
            cid += 1
            changes.append(
                dict(
                    id=f"LC{cid:06d}",
                    lead_id=f"L{n:05d}",
                    from_stage=prev,
                    to_stage=s,
                    changed_at=created + timedelta(hours=k + 1),
                )
            )
            prev = s
    changes.append(
        dict(id="LC-ORPHAN", lead_id="L-NOT-THERE", from_stage="Lead", to_stage="MQL", changed_at=end)
    )
    return {
        "stg_crm__user": pd.DataFrame(users),
        "stg_crm__quota": pd.DataFrame(quotas),
        "stg_crm__opportunity": pd.DataFrame(opps),
        "stg_crm__opportunity_field_history": pd.DataFrame(hist),
        "stg_crm__opportunity_line_item": pd.DataFrame(items),
        "stg_crm__lead": pd.DataFrame(leads),
        "stg_map__lifecycle_stage_change": pd.DataFrame(changes),
        "stg_finance__booking": pd.DataFrame(bookings),
    }


def load_staging(wh, tables: dict[str, pd.DataFrame]) -> None:
    """Insert the frames into the (already created) staging tables by column name."""
    with wh.raw_duckdb() as con:
        for name, df in tables.items():
            if df.empty:
                continue
            df = df.copy()
            df["_batch_id"] = "test"
            df["_loaded_at"] = datetime(2027, 1, 1)
            con.register("df_in", df)
            try:
                con.execute(f"insert into staging.{name} by name select * from df_in")
            finally:
                con.unregister("df_in")


def read_staging(wh) -> dict[str, pd.DataFrame]:
    names = [
        "stg_crm__user",
        "stg_crm__quota",
        "stg_crm__opportunity",
        "stg_crm__opportunity_field_history",
        "stg_crm__opportunity_line_item",
        "stg_crm__lead",
        "stg_map__lifecycle_stage_change",
        "stg_finance__booking",
    ]
    out = {}
    for n in names:
        df = wh.query_df(f"select * from staging.{n}")
        out[n] = df.astype(object).where(df.notna(), None)
    return out


# --- reference metrics ----------------------------------------------------------------------------


def _num(x) -> Decimal:
    return Decimal(0) if x is None or (isinstance(x, float) and pd.isna(x)) else Decimal(str(x))


def _d(x) -> date | None:
    if x is None or (not isinstance(x, date) and pd.isna(x)):
        return None
    return pd.Timestamp(x).date()


def opportunity_frame(st: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Opportunities with owner attributes and the per-level rollup keys."""
    users = {u["id"]: u for u in st["stg_crm__user"].to_dict("records")}
    rows = []
    for o in st["stg_crm__opportunity"].to_dict("records"):
        owner = o["owner_id"] or "(none)"
        u = users.get(owner, {})
        info = STAGES.get(o["stage_name"])
        is_closed = o["is_closed"] if o["is_closed"] is not None else (info[2] if info else False)
        is_won = o["is_won"] if o["is_won"] is not None else (info[3] if info else False)
        rows.append(
            {
                **o,
                "owner": owner,
                "stage_order": info[0] if info else None,
                "is_closed": bool(is_closed),
                "is_won": bool(is_won),
                "is_open": not is_closed,
                "is_lost": bool(is_closed) and not is_won,
                "amt": _num(o["amount"]),
                # the source's probability, else the stage's policy probability
                "weighted": float(_num(o["amount"]))
                * float(o["probability"] if o["probability"] is not None else (info[1] if info else 0))
                / 100.0,
                "close": _d(o["close_date"]),
                "created_date": pd.Timestamp(o["created_at"]).date(),
                "keys": {
                    "rep": owner,
                    "manager": u.get("manager_id") or "(none)",
                    "region": u.get("region") or "(none)",
                    "segment": u.get("segment") or "(none)",
                    "company": "all",
                },
                "role": u.get("user_role"),
            }
        )
    df = pd.DataFrame(rows)
    return df.astype(object).where(df.notna(), None)  # NaN back to None for every field


def by_level(rows: list[dict], period_key: str, metrics) -> dict[tuple, dict]:
    """Group opportunity dicts by (period, level, key) and apply ``metrics(list_of_rows)``."""
    groups: dict[tuple, list] = {}
    for r in rows:
        for level in LEVELS:
            groups.setdefault((r[period_key], level, r["keys"][level]), []).append(r)
    return {k: metrics(v) for k, v in groups.items()}


def ref_open_pipeline(st) -> dict[tuple, dict]:
    opps = opportunity_frame(st)
    rows = [dict(r, period=fq_label(r["close"]) or "(none)") for r in opps.to_dict("records") if r["is_open"]]
    return by_level(
        rows,
        "period",
        lambda g: {
            "open_pipeline_count": len(g),
            "open_pipeline_amount": sum(r["amt"] for r in g),
            "weighted_open_pipeline_amount": sum(r["weighted"] for r in g),
        },
    )


def ref_created(st) -> dict[tuple, dict]:
    opps = opportunity_frame(st)
    rows = [dict(r, period=fq_label(r["created_date"]) or "(none)") for r in opps.to_dict("records")]
    return by_level(
        rows,
        "period",
        lambda g: {
            "pipeline_created_count": len(g),
            "pipeline_created_amount": sum(r["amt"] for r in g),
        },
    )


def ref_closed_deals(st) -> dict[tuple, dict]:
    opps = opportunity_frame(st)
    rows = [
        dict(r, period=fq_label(r["close"]) or "(none)") for r in opps.to_dict("records") if r["is_closed"]
    ]

    def metrics(g):
        won = [r for r in g if r["is_won"]]
        excluded = [r for r in g if r["is_lost"] and r["loss_reason"] in EXCLUDED_LOSS]
        lost = [r for r in g if r["is_lost"] and r["loss_reason"] not in EXCLUDED_LOSS]
        won_amt, lost_amt = sum(r["amt"] for r in won), sum(r["amt"] for r in lost)
        cycles = [(r["close"] - r["created_date"]).days for r in won if r["close"] is not None]
        prices = [r["amt"] for r in won if not pd.isna(r["amount"])]
        return {
            "won_count": len(won),
            "lost_count": len(lost),
            "excluded_lost_count": len(excluded),
            "won_amount": won_amt,
            "lost_amount": lost_amt,
            "win_rate_by_count": len(won) / (len(won) + len(lost)) if won or lost else None,
            "win_rate_by_amount": float(won_amt / (won_amt + lost_amt)) if won_amt + lost_amt > 0 else None,
            "avg_sales_cycle_days": sum(cycles) / len(cycles) if cycles else None,
            "avg_selling_price": float(sum(prices) / len(prices)) if prices else None,
        }

    return by_level(rows, "period", metrics)


def ref_coverage(st, as_of: date, quota_roles=("Account Executive",)) -> dict[tuple, dict]:
    opps = opportunity_frame(st).to_dict("records")
    cur = quarter_bounds(as_of)
    nxt = quarter_bounds(cur[1] + timedelta(days=1))
    users = {u["id"]: u for u in st["stg_crm__user"].to_dict("records")}
    out: dict[tuple, dict] = {}
    for rel, (qs, qe) in (("current", cur), ("next", nxt)):
        acc: dict[tuple, dict] = {}

        def slot(level, key, acc=acc, rel=rel):
            return acc.setdefault(
                (rel, level, key),
                {
                    "quota_amount": Decimal(0),
                    "open_pipeline_amount": Decimal(0),
                    "closed_won_amount": Decimal(0),
                },
            )

        for q in st["stg_crm__quota"].to_dict("records"):
            if not (qs <= _d(q["period_start"]) <= qe):
                continue
            owner = q["owner_id"] or "(none)"
            u = users.get(owner, {})
            keys = {
                "rep": owner,
                "manager": u.get("manager_id") or "(none)",
                "region": u.get("region") or "(none)",
                "segment": u.get("segment") or "(none)",
                "company": "all",
            }
            for level in LEVELS:
                if level == "rep" or u.get("user_role") in quota_roles:
                    slot(level, keys[level])["quota_amount"] += _num(q["quota_amount"])
        for r in opps:
            if r["close"] is None or not (qs <= r["close"] <= qe):
                continue
            for level in LEVELS:
                s = slot(level, r["keys"][level])
                if r["is_open"]:
                    s["open_pipeline_amount"] += r["amt"]
                if r["is_won"]:
                    s["closed_won_amount"] += r["amt"]
        for v in acc.values():
            v["coverage_ratio"] = (
                float(v["open_pipeline_amount"] / v["quota_amount"]) if v["quota_amount"] > 0 else None
            )
            rem = v["quota_amount"] - v["closed_won_amount"]
            v["coverage_of_remaining_ratio"] = float(v["open_pipeline_amount"] / rem) if rem > 0 else None
        out.update(acc)
    return out


def ref_forecast(st, as_of: date) -> dict[tuple, dict]:
    opps = opportunity_frame(st).to_dict("records")
    cur = quarter_bounds(as_of)
    nxt = quarter_bounds(cur[1] + timedelta(days=1))
    out: dict[tuple, dict] = {}
    for rel, (qs, qe) in (("current", cur), ("next", nxt)):
        for r in opps:
            if r["close"] is None or not (qs <= r["close"] <= qe) or r["is_lost"]:
                continue
            # Closed = closed-won deals only; an open deal whose category says Closed is not booked
            cat = (
                "Closed"
                if r["is_won"]
                else (None if r["forecast_category"] == "Closed" else r["forecast_category"])
            )
            for level in LEVELS:
                s = out.setdefault(
                    (rel, level, r["keys"][level]),
                    {
                        "closed_amount": Decimal(0),
                        "commit_amount": Decimal(0),
                        "best_case_amount": Decimal(0),
                        "pipeline_amount": Decimal(0),
                        "omitted_amount": Decimal(0),
                        "weighted_pipeline_amount": 0.0,
                    },
                )
                col = {
                    "Closed": "closed_amount",
                    "Commit": "commit_amount",
                    "Best Case": "best_case_amount",
                    "Pipeline": "pipeline_amount",
                    "Omitted": "omitted_amount",
                }.get(cat)
                if col:
                    s[col] += r["amt"]
                if r["is_open"]:
                    s["weighted_pipeline_amount"] += r["weighted"]
    for v in out.values():
        v["commit_forecast_amount"] = v["closed_amount"] + v["commit_amount"]
        v["best_case_forecast_amount"] = v["commit_forecast_amount"] + v["best_case_amount"]
    return out


def ref_bookings(st) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for r in opportunity_frame(st).to_dict("records"):
        if not r["is_won"] or r["close"] is None:
            continue
        for grain, label in (
            ("fiscal_month", fm_label(r["close"])),
            ("fiscal_quarter", fq_label(r["close"])),
            ("fiscal_year", fy_label(r["close"])),
        ):
            s = out.setdefault(
                (grain, label, r["type"] or "(none)"),
                {"bookings_count": 0, "bookings_amount": Decimal(0), "arr_added_amount": Decimal(0)},
            )
            s["bookings_count"] += 1
            s["bookings_amount"] += r["amt"]
            if r["type"] in ("New Business", "Expansion"):
                s["arr_added_amount"] += r["amt"]
    return out


def ref_reconciliation(st) -> dict[tuple, dict]:
    opps = opportunity_frame(st).to_dict("records")
    won_ids = {r["id"] for r in opps if r["is_won"]}
    booked = set(st["stg_finance__booking"]["opportunity_id"]) if len(st["stg_finance__booking"]) else set()
    out: dict[tuple, dict] = {}

    def slot(key):
        return out.setdefault(
            key,
            {
                "crm_bookings_amount": Decimal(0),
                "finance_bookings_amount": Decimal(0),
                "crm_unmatched_count": 0,
                "finance_unmatched_count": 0,
            },
        )

    def labels(d):
        return (("fiscal_month", fm_label(d)), ("fiscal_quarter", fq_label(d)), ("fiscal_year", fy_label(d)))

    for r in opps:
        if r["is_won"] and r["close"] is not None:
            for key in labels(r["close"]):
                s = slot(key)
                s["crm_bookings_amount"] += r["amt"]
                s["crm_unmatched_count"] += r["id"] not in booked
    for b in st["stg_finance__booking"].to_dict("records"):
        if b["booking_date"] is None:
            continue
        for key in labels(_d(b["booking_date"])):
            s = slot(key)
            s["finance_bookings_amount"] += _num(b["amount"])
            s["finance_unmatched_count"] += b["opportunity_id"] not in won_ids
    for v in out.values():
        v["variance_amount"] = v["crm_bookings_amount"] - v["finance_bookings_amount"]
    return out


def _history_by_opp(st) -> dict[str, list[dict]]:
    h = st["stg_crm__opportunity_field_history"].sort_values(["created_at", "id"]).to_dict("records")
    out: dict[str, list[dict]] = {}
    for r in h:
        out.setdefault(r["opportunity_id"], []).append(r)
    return out


def ref_risk(st, as_of: date, min_pushes=2, inactive_days=30, large=(100000, 2, 30), grace=0) -> pd.DataFrame:
    hist = _history_by_opp(st)
    q_end = quarter_bounds(as_of)[1]
    rows = []
    for r in opportunity_frame(st).to_dict("records"):
        if not r["is_open"]:
            continue
        h = [x for x in hist.get(r["id"], []) if pd.Timestamp(x["created_at"]).date() <= as_of]
        pushes = sum(
            1
            for x in h
            if x["field"] == "CloseDate"
            and x["old_value"]
            and x["new_value"]
            and x["new_value"] > x["old_value"]
        )
        entered = [
            pd.Timestamp(x["created_at"]).date()
            for x in h
            if x["field"] == "StageName" and x["new_value"] == r["stage_name"]
        ]
        entered_date = max(entered) if entered else r["created_date"]
        past = r["close"] is not None and r["close"] < as_of - timedelta(days=grace)
        lad = _d(r["last_activity_date"])
        inactive = lad is None or lad < as_of - timedelta(days=inactive_days)
        big = (
            r["amt"] >= large[0]
            and r["stage_order"] is not None
            and r["stage_order"] <= large[1]
            and r["close"] is not None
            and as_of <= r["close"] <= q_end
            and (q_end - as_of).days <= large[2]
        )
        rows.append(
            {
                "opportunity_id": r["id"],
                "stage_name": r["stage_name"],
                "days_in_current_stage": (as_of - entered_date).days,
                "push_count": pushes,
                "is_past_close_date": past,
                "is_pushed_repeatedly": pushes >= min_pushes,
                "is_inactive": inactive,
                "is_large_early_late": bool(big),
                "is_at_risk": past or pushes >= min_pushes or inactive or bool(big),
                "amt": r["amt"],
                "keys": r["keys"],
            }
        )
    return pd.DataFrame(rows)


def ref_stage_conversion(st) -> dict[str, dict]:
    hist = _history_by_opp(st)
    out = {}
    opps = [
        r
        for r in opportunity_frame(st).to_dict("records")
        if not (r["is_lost"] and r["loss_reason"] in EXCLUDED_LOSS)
    ]
    reached = {}
    for r in opps:
        seen = {r["stage_name"]}
        for x in hist.get(r["id"], []):
            if x["field"] == "StageName":
                seen |= {x["old_value"], x["new_value"]}
        orders = [STAGES[s][0] for s in seen if s in STAGES and s != "Closed Lost"]
        reached[r["id"]] = max(orders) if orders else None
    for s in OPEN_STAGES:
        k = STAGES[s][0]
        nxt = k + 1
        reach = [r for r in opps if reached[r["id"]] is not None and reached[r["id"]] >= k]
        resolved = [
            r
            for r in reach
            if r["is_closed"]
            or (r["stage_order"] is not None and not pd.isna(r["stage_order"]) and r["stage_order"] > k)
        ]
        reach_next = [r for r in opps if reached[r["id"]] is not None and reached[r["id"]] >= nxt]
        closed = [r for r in reach if r["is_closed"]]
        won = [r for r in reach if r["is_won"]]
        out[s] = {
            "reached_count": len(reach),
            "resolved_count": len(resolved),
            "reached_next_count": len(reach_next),
            "stage_to_next_rate": len(reach_next) / len(resolved) if resolved else None,
            "stage_to_won_rate": len(won) / len(closed) if closed else None,
        }
    return out


def lead_segment(emp, fallback):
    if emp is None or pd.isna(emp):
        return fallback or "(none)"
    return "ENT" if emp >= 2000 else "MM" if emp >= 200 else "SMB"


def ref_lead_funnel(st) -> dict[tuple, dict]:
    reached: dict[str, int] = {}
    for c in st["stg_map__lifecycle_stage_change"].to_dict("records"):
        if c["to_stage"] in FUNNEL:
            reached[c["lead_id"]] = max(reached.get(c["lead_id"], 1), FUNNEL.index(c["to_stage"]) + 1)
    out: dict[tuple, dict] = {}
    for lead in st["stg_crm__lead"].to_dict("records"):
        rank = 4 if (lead["is_converted"] or lead["converted_opportunity_id"]) else reached.get(lead["id"], 1)
        key = (
            fq_label(lead["created_at"]) or "(none)",
            lead["lead_source"] or "(none)",
            lead_segment(lead["number_of_employees"], lead["segment"]),
        )
        s = out.setdefault(key, {"lead_count": 0, "mql_count": 0, "sql_count": 0, "opportunity_count": 0})
        for i, col in enumerate(["lead_count", "mql_count", "sql_count", "opportunity_count"]):
            s[col] += rank >= i + 1
    for s in out.values():
        s["lead_to_mql_rate"] = s["mql_count"] / s["lead_count"] if s["lead_count"] else None
        s["mql_to_sql_rate"] = s["sql_count"] / s["mql_count"] if s["mql_count"] else None
        s["sql_to_opportunity_rate"] = s["opportunity_count"] / s["sql_count"] if s["sql_count"] else None
        s["lead_to_opportunity_rate"] = s["opportunity_count"] / s["lead_count"] if s["lead_count"] else None
    return out


def ref_speed_to_lead(st, as_of_ts: datetime) -> dict[tuple, dict]:
    groups: dict[tuple, list] = {}
    for lead in st["stg_crm__lead"].to_dict("records"):
        seg = lead_segment(lead["number_of_employees"], lead["segment"])
        created = pd.Timestamp(lead["created_at"])
        ha = (
            None
            if lead["assigned_at"] is None
            else (pd.Timestamp(lead["assigned_at"]) - created).total_seconds() / 3600
        )
        ht = (
            None
            if lead["first_touch_at"] is None
            else (pd.Timestamp(lead["first_touch_at"]) - created).total_seconds() / 3600
        )
        sla = SLA.get(seg)
        if sla is None:
            status = "no_sla"
        elif ha is not None:
            status = "met" if ha <= sla else "breached"
        else:
            status = (
                "unassigned_breached"
                if (pd.Timestamp(as_of_ts) - created).total_seconds() / 3600 > sla
                else "pending"
            )
        groups.setdefault((fq_label(lead["created_at"]) or "(none)", seg), []).append((ha, ht, status))
    out = {}
    for k, g in groups.items():
        has = [x[0] for x in g if x[0] is not None]
        hts = [x[1] for x in g if x[1] is not None]
        met = sum(1 for x in g if x[2] == "met")
        breached = sum(1 for x in g if x[2] == "breached")
        out[k] = {
            "lead_count": len(g),
            "assigned_count": len(has),
            "avg_hours_to_assignment": sum(has) / len(has) if has else None,
            "median_hours_to_assignment": float(pd.Series(has).median()) if has else None,
            "avg_hours_to_first_touch": sum(hts) / len(hts) if hts else None,
            "sla_met_count": met,
            "sla_breached_count": breached,
            "unassigned_breached_count": sum(1 for x in g if x[2] == "unassigned_breached"),
            "sla_pending_count": sum(1 for x in g if x[2] == "pending"),
            "routing_sla_compliance_rate": met / (met + breached) if met + breached else None,
        }
    return out


def ref_completeness(st, required: dict[str, list[str]]) -> dict[tuple, dict]:
    items = (
        set(st["stg_crm__opportunity_line_item"]["opportunity_id"])
        if len(st["stg_crm__opportunity_line_item"])
        else set()
    )
    col = {
        "AccountId": "account_id",
        "OwnerId": "owner_id",
        "CloseDate": "close_date",
        "Type": "type",
        "Amount": "amount",
        "Loss_Reason__c": "loss_reason",
    }
    out: dict[tuple, dict] = {}
    for o in st["stg_crm__opportunity"].to_dict("records"):
        fields = required.get(o["stage_name"], [])
        if not fields:
            continue
        all_ok = True
        for f in fields:
            ok = (o["id"] in items) if f == "Products" else o[col[f]] is not None
            all_ok &= ok
            for key in ((o["stage_name"], f), ("(all)", f)):
                s = out.setdefault(key, {"opportunity_count": 0, "filled_count": 0})
                s["opportunity_count"] += 1
                s["filled_count"] += ok
        for key in ((o["stage_name"], "(all)"), ("(all)", "(all)")):
            s = out.setdefault(key, {"opportunity_count": 0, "filled_count": 0})
            s["opportunity_count"] += 1
            s["filled_count"] += all_ok
    for s in out.values():
        s["completeness_rate"] = s["filled_count"] / s["opportunity_count"]
    return out


# --- snapshots and movement -----------------------------------------------------------------------


def ref_snapshot(st, day: date) -> dict[str, dict]:
    """Open opportunities at the end of ``day``, rebuilt from field history row by row."""
    hist = _history_by_opp(st)
    out = {}
    for o in st["stg_crm__opportunity"].to_dict("records"):
        if pd.Timestamp(o["created_at"]).date() > day:
            continue
        state = {
            "StageName": o["stage_name"],
            "Amount": o["amount"],
            "CloseDate": o["close_date"],
            "ForecastCategoryName": o["forecast_category"],
        }
        for field in state:
            rows = [x for x in hist.get(o["id"], []) if x["field"] == field]
            before = [x for x in rows if pd.Timestamp(x["created_at"]).date() <= day]
            after = [x for x in rows if pd.Timestamp(x["created_at"]).date() > day]
            if before:
                value = before[-1]["new_value"]
            elif after:
                value = after[0]["old_value"]
            else:
                continue
            if field == "Amount":
                value = None if value is None else Decimal(value)
            elif field == "CloseDate":
                value = None if value is None else date.fromisoformat(value)
            state[field] = value
        info = STAGES.get(state["StageName"])
        closed = info[2] if info else bool(o["is_closed"])
        if not closed:
            out[o["id"]] = {
                "stage_name": state["StageName"],
                "amount": state["Amount"],
                "close_date": _d(state["CloseDate"]),
                "forecast_category": state["ForecastCategoryName"],
                "stage_order": info[0] if info else None,
                "created_date": pd.Timestamp(o["created_at"]).date(),
            }
    return out


def ref_movement(st, start: date, end: date, cutoff_day: int = 75) -> dict[str, tuple[str, Decimal]]:
    """opportunity_id -> (category, signed amount change) for the window = fiscal quarter of ``end``."""
    ws, we = quarter_bounds(end)
    s_snap, e_snap = ref_snapshot(st, start), ref_snapshot(st, end)
    current = {o["id"]: o for o in st["stg_crm__opportunity"].to_dict("records")}
    hist = _history_by_opp(st)

    def inw(snap, oid):
        return oid in snap and snap[oid]["close_date"] is not None and ws <= snap[oid]["close_date"] <= we

    def stage_at(oid, day):
        rows = [x for x in hist.get(oid, []) if x["field"] == "StageName"]
        before = [x for x in rows if pd.Timestamp(x["created_at"]).date() <= day]
        after = [x for x in rows if pd.Timestamp(x["created_at"]).date() > day]
        return (
            before[-1]["new_value"]
            if before
            else after[0]["old_value"]
            if after
            else current[oid]["stage_name"]
        )

    out = {}
    for oid in set(s_snap) | set(e_snap):
        a, b = inw(s_snap, oid), inw(e_snap, oid)
        sa = _num(s_snap[oid]["amount"]) if a else Decimal(0)
        ea = _num(e_snap[oid]["amount"]) if b else Decimal(0)
        if not a and not b:
            continue
        if a and b:
            cat = "amount_up" if ea > sa else "amount_down" if ea < sa else "unchanged"
        elif b:
            if oid not in s_snap:
                cat = "new" if e_snap[oid]["created_date"] > start else "reopened"
            elif s_snap[oid]["close_date"] is not None and s_snap[oid]["close_date"] > we:
                cat = "pulled_in"
            elif s_snap[oid]["close_date"] is not None and s_snap[oid]["close_date"] < ws:
                cat = "pushed_in"
            else:
                cat = "reopened"
        elif oid in e_snap:
            cd = e_snap[oid]["close_date"]
            if cd is not None and cd > we:
                moves = [
                    pd.Timestamp(x["created_at"]).date()
                    for x in hist.get(oid, [])
                    if x["field"] == "CloseDate"
                    and start < pd.Timestamp(x["created_at"]).date() <= end
                    and x["new_value"]
                    and date.fromisoformat(x["new_value"]) > we
                ]
                moved = max(moves) if moves else end
                qs = quarter_bounds(moved)[0]
                cat = "slipped" if (moved - qs).days + 1 >= cutoff_day else "pushed"
            else:
                cat = "moved_out_other"
        elif oid not in current:
            cat = "removed"
        else:
            stage = stage_at(oid, end)
            cat = (
                "won"
                if stage == "Closed Won"
                else "lost"
                if STAGES.get(stage, (0, 0, False))[2]
                else "removed"
            )
        out[oid] = (cat, ea - sa)
    return out


WATERFALL_FLOWS = (
    "new",
    "reopened",
    "pulled_in",
    "pushed_in",
    "amount_up",
    "amount_down",
    "pushed",
    "slipped",
    "moved_out_other",
    "won",
    "lost",
    "removed",
)
WATERFALL_STEPS = (
    "starting_pipeline",
    *WATERFALL_FLOWS,
    "ending_pipeline",
    "stage_advanced",
    "stage_regressed",
)


def ref_waterfall(st, start: date, end: date, cutoff_day: int = 75) -> dict[tuple, dict]:
    """(rollup_level, rollup_key, step) -> {opportunity_count, amount}: the waterfall of every group.

    Built deal by deal: the starting / ending pipeline from the two rebuilt snapshots, each flow from
    the reference movement category, every deal under its current owner's group at each level. A
    group has all 16 steps when it has a deal in the window at either date; the company always.
    """
    ws, we = quarter_bounds(end)
    s_snap, e_snap = ref_snapshot(st, start), ref_snapshot(st, end)
    keys = {r["id"]: r["keys"] for r in opportunity_frame(st).to_dict("records")}
    moves = ref_movement(st, start, end, cutoff_day)
    out: dict[tuple, dict] = {}

    def add(oid, step, amount):
        for level in LEVELS:
            for s in WATERFALL_STEPS:
                out.setdefault((level, keys[oid][level], s), {"opportunity_count": 0, "amount": Decimal(0)})
            cell = out[(level, keys[oid][level], step)]
            cell["opportunity_count"] += 1
            cell["amount"] += amount

    def inw(snap, oid):
        return oid in snap and snap[oid]["close_date"] is not None and ws <= snap[oid]["close_date"] <= we

    for s in WATERFALL_STEPS:
        out[("company", "all", s)] = {"opportunity_count": 0, "amount": Decimal(0)}
    for oid in sorted(set(s_snap) | set(e_snap)):
        if inw(s_snap, oid):
            add(oid, "starting_pipeline", _num(s_snap[oid]["amount"]))
        if inw(e_snap, oid):
            add(oid, "ending_pipeline", _num(e_snap[oid]["amount"]))
    for oid, (cat, change) in moves.items():
        if cat != "unchanged":
            add(oid, cat, change)
        so, eo = (
            s_snap[oid]["stage_order"] if oid in s_snap else None,
            e_snap[oid]["stage_order"] if oid in e_snap else None,
        )
        if inw(s_snap, oid) and inw(e_snap, oid) and so is not None and eo is not None and so != eo:
            add(oid, "stage_advanced" if eo > so else "stage_regressed", _num(e_snap[oid]["amount"]))
    return out


def ref_stage_aging(st, as_of: date) -> dict[tuple, dict]:
    """(rollup_level, rollup_key, stage_name) -> stage aging of the group's open deals in that stage."""
    groups: dict[tuple, list] = {}
    for r in ref_risk(st, as_of).to_dict("records"):
        for level in LEVELS:
            groups.setdefault((level, r["keys"][level], r["stage_name"] or "(none)"), []).append(r)
    return {
        k: {
            "open_count": len(g),
            "open_amount": sum((r["amt"] for r in g), Decimal(0)),
            "avg_days_in_current_stage": sum(r["days_in_current_stage"] for r in g) / len(g),
            "max_days_in_current_stage": max(r["days_in_current_stage"] for r in g),
            "days_in_current_stage_total": sum(r["days_in_current_stage"] for r in g),
            "aged_count": len(g),
        }
        for k, g in groups.items()
    }


# --- the reference itself, pinned to hand-computed numbers ---------------------------------------


def test_fiscal_reference_labels():
    assert fq_label(date(2026, 2, 1)) == "FY2027-Q1"
    assert fq_label(date(2026, 1, 31)) == "FY2026-Q4"
    assert fq_label(date(2026, 11, 1)) == "FY2027-Q4"
    assert fm_label(date(2027, 1, 31)) == "FY2027-M12"
    assert quarter_bounds(date(2027, 1, 20)) == (date(2026, 11, 1), date(2027, 1, 31))


def test_generator_history_is_consistent():
    st = make_staging(seed=3, n_opps=60, n_leads=10)
    snap = ref_snapshot(st, date(2027, 1, 20))
    live = {
        o["id"]
        for o in st["stg_crm__opportunity"].to_dict("records")
        if not STAGES.get(o["stage_name"], (0, 0, False))[2]
    }
    assert set(snap) == live
