"""Ground truth of the demo CRM: which record has which defect, as of the demo clock.

Injected duplicates (``dup_pairs``) and malformed API values (``malformed_values``) are recorded
when they are made. Every other defect is a rule over the stored data, evaluated here with the
policy files, so the ground truth stays exact after ``advance()`` and ``update_records()``:

* opp_missing_required_field: a field in stages.yaml ``required_fields`` of the record's stage is
  null or blank ('Products' = no OpportunityLineItem); one row per missing field.
* opp_past_close_date: open and CloseDate < as-of date - past_due_grace_days.
* opp_close_date_pushed: more than max_pushes CloseDate increases in OpportunityFieldHistory.
* opp_forecast_category_mismatch: non-null ForecastCategoryName not allowed for the stage.
* opp_stale: open and LastActivityDate null or < as-of date - days_without_activity.
* opp_missing_next_step: open, stage order >= required_from_stage_order, NextStep null/blank.
* opp_amount_invalid: Amount <= min_exclusive ('non_positive') or > outlier_max ('outlier'), the
  bound in the corporate currency (multi-currency demo: Amount / the DatedConversionRate covering
  CloseDate, else the CurrencyType rate, to the cent; no CurrencyIsoCode = corporate).
* opp_invalid_picklist: Type / LeadSource non-null and not in the stages.yaml picklist.
* opp_orphan_account / opp_orphan_owner: AccountId / OwnerId set but no such record.
* lead_unassigned: OwnerId null and not converted.
* lead_misrouted: owner is an active user whose Team__c is not the team the routing rules give
  for the lead's Country and NumberOfEmployees.
* lead_sla_breach: Assigned_At__c - CreatedDate > the SLA hours of the lead's segment.
* lead_invalid_email / contact_invalid_email: Email set and not matching hygiene.email.pattern.
* contact_orphan_account: AccountId set but no such account.
* booking_amount_mismatch (record = opportunity, related = booking; both amounts in the corporate
  currency, the booking at its BookingDate's rate), booking_missing (won
  opportunity without booking), booking_orphan (record = booking, related = missing opp id).

The as-of date is the date of the demo clock (the time an extract made now would record).
"""

from __future__ import annotations

from datetime import date

import duckdb

from salesops.config import policy

_STRING_FIELDS = {"AccountId", "OwnerId", "Type", "Loss_Reason__c"}


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_lit(v) for v in values) + "]"


def _missing_condition(field: str) -> str:
    if field == "Products":
        return "o.n_items = 0"
    if field in _STRING_FIELDS:
        return f"nullif(trim(o.\"{field}\"), '') IS NULL"
    return f'o."{field}" IS NULL'


def _corporate(amount: str, currency: str, day: str) -> str:
    """An amount in the corporate currency, as Salesforce's Advanced Currency Management converts it
    (the demo's own statement of the rule, independent of the pipeline's SQL): no currency or the
    corporate one = as stored; else amount / the DatedConversionRate covering ``day``, else / the
    CurrencyType rate, to the cent. A single-currency demo has no CurrencyIsoCode: as stored."""
    return (
        f'CASE WHEN {currency} IS NULL OR {currency} IN (SELECT IsoCode FROM "CurrencyType" WHERE IsCorporate) '
        f"THEN {amount} ELSE round({amount} / coalesce("
        f'(SELECT d.ConversionRate FROM "DatedConversionRate" d WHERE d.IsoCode = {currency} '
        f"AND d.StartDate <= {day} AND (d.NextStartDate IS NULL OR {day} < d.NextStartDate) "
        f"ORDER BY d.StartDate DESC LIMIT 1), "
        f'(SELECT c.ConversionRate FROM "CurrencyType" c WHERE c.IsoCode = {currency})), 2) END'
    )


# Opportunity columns the rules read besides the stages' required fields.
_OPPORTUNITY_COLUMNS = (
    "Id",
    "StageName",
    "IsClosed",
    "IsWon",
    "CloseDate",
    "LastActivityDate",
    "NextStep",
    "Amount",
    "ForecastCategoryName",
    "Type",
    "LeadSource",
    "AccountId",
    "OwnerId",
)
FACTS_TABLE = "_gt_opportunity"


def _stage_rows(stages: dict) -> str:
    return ", ".join(
        f"({_lit(s['name'])}, {int(s['order'])}, {_list(s['forecast_categories'])}, {_list(s['required_fields'])})"
        for s in stages["stages"]
    )


def opportunity_facts_sql() -> str:
    """A temp table of what the opportunity rules read, one row per opportunity: the columns, the
    stage's order, forecast categories and required fields, line items, CloseDate pushes and the
    amount in the corporate currency.

    It was a CTE read by every opportunity rule: DuckDB materialized the whole table with its
    list columns and re-read it 18 times (spilling under the demo's 1 GB memory limit: 40 s of
    the 1 M-opportunity advance). Made once and narrow, the rules read it as a plain table.
    """
    stages = policy("stages")
    required = [f for s in stages["stages"] for f in s["required_fields"] if f != "Products"]
    cols = ", ".join(f'op."{c}"' for c in dict.fromkeys([*_OPPORTUNITY_COLUMNS, *required]))
    return f"""
CREATE OR REPLACE TEMP TABLE {FACTS_TABLE} AS
WITH stages(stage, ord, fcs, req) AS (VALUES {_stage_rows(stages)}),
items AS (SELECT OpportunityId, count(*) AS n FROM "OpportunityLineItem" GROUP BY 1),
pushes AS (
    SELECT OpportunityId, count(*) AS n FROM "OpportunityFieldHistory"
    WHERE Field = 'CloseDate' AND TRY_CAST(NewValue AS DATE) > TRY_CAST(OldValue AS DATE)
    GROUP BY 1)
SELECT {cols}, s.ord, s.fcs, s.req, coalesce(i.n, 0) AS n_items, coalesce(p.n, 0) AS n_pushes,
       {_corporate("op.Amount", "op.CurrencyIsoCode", "op.CloseDate")} AS amount_corp
FROM "Opportunity" op
LEFT JOIN stages s ON s.stage = op.StageName
LEFT JOIN items i ON i.OpportunityId = op.Id
LEFT JOIN pushes p ON p.OpportunityId = op.Id
"""


def ground_truth_sql() -> str:
    """One INSERT that rebuilds ground_truth from the current data (bind $as_of DATE, $email); it
    reads the temp table made by :func:`opportunity_facts_sql`."""
    stages = policy("stages")
    hyg = policy("hygiene")
    terr = policy("territories")
    all_required = sorted({f for s in stages["stages"] for f in s["required_fields"]})
    req_union = "\nUNION ALL\n".join(
        f"SELECT 'Opportunity', o.Id, 'opp_missing_required_field', {_lit(f)}, NULL FROM o "
        f"WHERE list_contains(o.req, {_lit(f)}) AND {_missing_condition(f)}"
        for f in all_required
    )
    seg_rows = ", ".join(f"({_lit(s['name'])}, {int(s['min_employees'])})" for s in terr["segments"])
    region_rows = ", ".join(f"({_lit(c)}, {_lit(r)})" for r, cs in terr["regions"].items() for c in cs)
    rule_rows = ", ".join(
        f"({i}, {_lit(r['segment'])}, {_lit(r['region'])}, {_lit(r['team'])})"
        for i, r in enumerate(terr["routing_rules"])
    )
    sla_rows = ", ".join(f"({_lit(k)}, {float(v)})" for k, v in terr["sla"]["assignment_hours"].items())
    types = _list(stages["picklists"]["opportunity_type"])
    sources = _list(stages["picklists"]["lead_source"])
    grace = int(hyg["close_date"]["past_due_grace_days"])
    stale_days = int(hyg["stale_opportunity"]["days_without_activity"])
    max_pushes = int(hyg["close_date"]["max_pushes"])
    ns_order = int(hyg["next_step"]["required_from_stage_order"])
    amin = float(hyg["amount"]["min_exclusive"])
    amax = float(hyg["amount"]["outlier_max"])
    lost_zero = "TRUE" if hyg["amount"].get("closed_lost_zero_allowed", False) else "FALSE"
    return f"""
INSERT INTO ground_truth
WITH o AS NOT MATERIALIZED (SELECT * FROM {FACTS_TABLE}),
segs(segment, min_emp) AS (VALUES {seg_rows}),
regions(country, region) AS (VALUES {region_rows}),
routing(pos, segment, region, team) AS (VALUES {rule_rows}),
sla(segment, hours) AS (VALUES {sla_rows}),
lead_seg AS (
    SELECT l.Id, arg_max(s.segment, s.min_emp) AS segment
    FROM "Lead" l JOIN segs s ON l.NumberOfEmployees >= s.min_emp GROUP BY l.Id),
lead_team AS (
    SELECT l.Id, ls.segment, arg_min(r.team, r.pos) AS team
    FROM "Lead" l JOIN lead_seg ls USING (Id)
    JOIN regions g ON g.country = l.Country
    JOIN routing r ON r.segment = ls.segment AND r.region = g.region
    GROUP BY l.Id, ls.segment),
gt AS (
{req_union}
UNION ALL
SELECT 'Opportunity', Id, 'opp_past_close_date', strftime(CloseDate, '%Y-%m-%d'), NULL FROM o
WHERE NOT IsClosed AND CloseDate < $as_of - INTERVAL {grace} DAY
UNION ALL
SELECT 'Opportunity', Id, 'opp_close_date_pushed', CAST(n_pushes AS VARCHAR) || ' pushes', NULL FROM o
WHERE n_pushes > {max_pushes}
UNION ALL
SELECT 'Opportunity', Id, 'opp_forecast_category_mismatch', ForecastCategoryName, NULL FROM o
WHERE ForecastCategoryName IS NOT NULL AND fcs IS NOT NULL AND NOT list_contains(fcs, ForecastCategoryName)
UNION ALL
SELECT 'Opportunity', Id, 'opp_stale', coalesce(strftime(LastActivityDate, '%Y-%m-%d'), 'no activity'), NULL FROM o
WHERE NOT IsClosed AND (LastActivityDate IS NULL OR LastActivityDate < $as_of - INTERVAL {stale_days} DAY)
UNION ALL
SELECT 'Opportunity', Id, 'opp_missing_next_step', StageName, NULL FROM o
WHERE NOT IsClosed AND ord >= {ns_order} AND nullif(trim(NextStep), '') IS NULL
UNION ALL
SELECT 'Opportunity', Id, 'opp_amount_invalid',
       CASE WHEN Amount <= {amin} THEN 'non_positive' ELSE 'outlier' END, NULL FROM o
WHERE (Amount <= {amin} AND NOT ({lost_zero} AND IsClosed AND NOT IsWon AND Amount = 0)) OR amount_corp > {amax}
UNION ALL
SELECT 'Opportunity', Id, 'opp_invalid_picklist', 'Type', NULL FROM o
WHERE Type IS NOT NULL AND NOT list_contains({types}, Type)
UNION ALL
SELECT 'Opportunity', Id, 'opp_invalid_picklist', 'LeadSource', NULL FROM o
WHERE LeadSource IS NOT NULL AND NOT list_contains({sources}, LeadSource)
UNION ALL
SELECT 'Opportunity', o.Id, 'opp_orphan_account', 'AccountId', o.AccountId FROM o
WHERE o.AccountId IS NOT NULL AND o.AccountId NOT IN (SELECT Id FROM "Account")
UNION ALL
SELECT 'Opportunity', o.Id, 'opp_orphan_owner', 'OwnerId', o.OwnerId FROM o
WHERE o.OwnerId IS NOT NULL AND o.OwnerId NOT IN (SELECT Id FROM "User")
UNION ALL
SELECT 'Lead', Id, 'lead_unassigned', NULL, NULL FROM "Lead"
WHERE OwnerId IS NULL AND NOT coalesce(IsConverted, false)
UNION ALL
SELECT 'Lead', l.Id, 'lead_misrouted',
       'owner team ' || coalesce(u.Team__c, '(none)') || ', expected ' || t.team, l.OwnerId
FROM "Lead" l JOIN lead_team t USING (Id) JOIN "User" u ON u.Id = l.OwnerId
WHERE u.IsActive AND u.Team__c IS DISTINCT FROM t.team
UNION ALL
SELECT 'Lead', l.Id, 'lead_sla_breach',
       'assigned after ' || CAST(round(date_diff('second', l.CreatedDate, l.Assigned_At__c) / 3600.0, 1) AS VARCHAR)
       || 'h, SLA ' || CAST(s.hours AS VARCHAR) || 'h', NULL
FROM "Lead" l JOIN lead_seg ls USING (Id) JOIN sla s ON s.segment = ls.segment
WHERE l.Assigned_At__c IS NOT NULL AND date_diff('second', l.CreatedDate, l.Assigned_At__c) > s.hours * 3600
UNION ALL
SELECT 'Lead', Id, 'lead_invalid_email', Email, NULL FROM "Lead"
WHERE Email IS NOT NULL AND NOT regexp_full_match(Email, $email)
UNION ALL
SELECT 'Contact', Id, 'contact_invalid_email', Email, NULL FROM "Contact"
WHERE Email IS NOT NULL AND NOT regexp_full_match(Email, $email)
UNION ALL
SELECT 'Contact', Id, 'contact_orphan_account', 'AccountId', AccountId FROM "Contact"
WHERE AccountId IS NOT NULL AND AccountId NOT IN (SELECT Id FROM "Account")
UNION ALL
SELECT 'FinanceBooking', op.Id, 'booking_amount_mismatch',
       'crm=' || CAST(op.Amount AS VARCHAR) || ' finance=' || CAST(b.Amount AS VARCHAR), b.Id
FROM "FinanceBooking" b JOIN o AS op ON op.Id = b.OpportunityId
WHERE op.IsWon AND {_corporate("b.Amount", "b.CurrencyIsoCode", "b.BookingDate")} IS DISTINCT FROM op.amount_corp
UNION ALL
SELECT 'FinanceBooking', op.Id, 'booking_missing', 'no booking', NULL FROM "Opportunity" op
WHERE op.IsWon AND op.Id NOT IN (SELECT OpportunityId FROM "FinanceBooking" WHERE OpportunityId IS NOT NULL)
UNION ALL
SELECT 'FinanceBooking', b.Id, 'booking_orphan', 'OpportunityId', b.OpportunityId FROM "FinanceBooking" b
WHERE b.OpportunityId IS NOT NULL AND b.OpportunityId NOT IN (SELECT Id FROM "Opportunity")
UNION ALL
SELECT d.object, d.record_id,
       CASE d.object WHEN 'Lead' THEN 'lead_duplicate' WHEN 'Contact' THEN 'contact_duplicate'
                     ELSE 'account_duplicate' END,
       d.detail, d.related_id
FROM dup_pairs d
WHERE (d.object = 'Lead' AND d.record_id IN (SELECT Id FROM "Lead") AND d.related_id IN (SELECT Id FROM "Lead"))
   OR (d.object = 'Contact' AND d.record_id IN (SELECT Id FROM "Contact") AND d.related_id IN (SELECT Id FROM "Contact"))
   OR (d.object = 'Account' AND d.record_id IN (SELECT Id FROM "Account") AND d.related_id IN (SELECT Id FROM "Account"))
UNION ALL
SELECT m.api_name, m.Id, 'malformed_value', m.field, NULL FROM malformed_values m
WHERE (m.api_name = 'Opportunity' AND m.Id IN (SELECT Id FROM "Opportunity"))
   OR (m.api_name = 'Lead' AND m.Id IN (SELECT Id FROM "Lead"))
   OR (m.api_name NOT IN ('Opportunity', 'Lead'))
)
SELECT * FROM gt ORDER BY 1, 2, 3, 4
"""


def rebuild_ground_truth(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """Replace the ground_truth table's rows; returns the number of rows."""
    con.execute("DELETE FROM ground_truth")
    con.execute(opportunity_facts_sql())
    con.execute(ground_truth_sql(), {"as_of": as_of, "email": policy("hygiene")["email"]["pattern"]})
    con.execute(f"DROP TABLE {FACTS_TABLE}")
    return con.execute("SELECT count(*) FROM ground_truth").fetchall()[0][0]
