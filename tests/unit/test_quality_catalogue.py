"""The check catalogue: validation errors name the entry; generated expectations follow the policy."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from salesops.config import ConfigError
from salesops.kpis.fiscal import fiscal_day
from salesops.quality.catalogue import load_config
from salesops.quality.expectations import build_specs, condition_mask, violation_sql


def test_catalogue_loads_and_default_blockers():
    cfg = load_config()
    blockers = {c.id for c in cfg.checks.values() if c.severity == "blocker"}
    assert blockers == {
        "key_integrity",
        "opp_orphan_owner",
        "policy_unknown_value",
        "source_freshness",
        # Lead/Account/Contact picklist values the policy does not list (issue 15)
        "lead_unknown_picklist_value",
        "account_unknown_picklist_value",
        "contact_unknown_picklist_value",
    }
    assert cfg.checks["opp_orphan_owner"].target == 0.02


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"checks": {"opp_stale": {"severity": "fatal"}}},
            r"^quality.yaml: checks\.opp_stale\.severity: got 'fatal'; expected 'blocker' or 'warn'$",
        ),
        (
            {"checks": {"opp_stale": {"target": 5}}},
            r"^quality.yaml: checks\.opp_stale\.target: got 5; expected less than or equal to 1$",
        ),
        (
            {"checks": {"opp_stale": {"object": "deal"}}},
            r"checks\.opp_stale\.object: got 'deal'; expected an object of objects.yaml",
        ),
        (
            {"checks": {"opp_stale": {"scopes": ["galaxy"]}}},
            r"checks\.opp_stale\.scopes\[0\]: got 'galaxy'; expected 'owner', 'team', 'region' or 'segment'",
        ),
        (
            {"checks": {"opp_stale": {"dimension": "vibes"}}},
            r"checks\.opp_stale\.dimension: got 'vibes'; expected a scorecard metric",
        ),
    ],
)
def test_bad_catalogue_entries_are_named(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(override)


def test_expectations_generated_from_stage_policy():
    suites = build_specs(load_config())
    req = [s for s in suites["opportunity"] if s.check == "opp_missing_required_field"]
    products = next(s for s in req if s.detail == "Products")
    assert products.condition == (
        ("stage_name", "in", ("Proposal/Price Quote", "Negotiation/Review", "Closed Won")),
    )
    loss = next(s for s in req if s.detail == "Loss_Reason__c" and s.kind == "not_null")
    assert loss.column == "loss_reason" and loss.condition == (("stage_name", "in", ("Closed Lost",)),)
    fc = {
        s.detail: s.kwargs["value_set"]
        for s in suites["opportunity"]
        if s.check == "opp_forecast_category_mismatch"
    }
    assert fc["Qualification"] == ["Pipeline"] and fc["Closed Won"] == ["Closed"]
    assert {"opportunity__keys", "lead__keys", "booking__keys"} <= set(suites)


def test_condition_mask_matches_gx_null_semantics():
    df = pd.DataFrame({"is_open": [True, False, None, True], "stage_order": [3, 5, 4, None]})
    mask = condition_mask(df, (("is_open", "==", True), ("stage_order", ">=", 2)))
    assert mask.tolist() == [True, False, False, False]


def test_violation_sql_for_tickets():
    spec = next(
        s
        for s in build_specs(load_config())["opportunity"]
        if s.check == "opp_amount_invalid" and s.detail == "non_positive"
    )
    assert violation_sql(spec) == "amount_zero_allowed = false and (amount <= 0)"


@pytest.mark.parametrize(
    ("d", "label"),
    [
        (date(2026, 2, 1), "FY2027-Q1"),
        (date(2026, 1, 31), "FY2026-Q4"),
        (date(2026, 10, 31), "FY2027-Q3"),
        (date(2026, 11, 1), "FY2027-Q4"),
    ],
)
def test_fiscal_quarter(d, label):
    assert fiscal_day(d, 2).fiscal_quarter_label == label
