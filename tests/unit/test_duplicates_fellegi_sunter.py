"""The person pass's Fellegi-Sunter scorer: weight sums on hand-built pairs, the replaced-name rule
and its household blocker, and the policy model that validates its m/u probabilities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from salesops.policy import ConfigError
from salesops.policy.loader import validate
from salesops.policy.models.quality import FellegiSunter
from salesops.quality.catalogue import load_config
from salesops.quality.duplicates import (
    CLOSE,
    DISAGREE,
    EXACT,
    MISSING,
    find_duplicates,
    fs_person_scores,
    fs_weights,
    normalise_table,
)

# Round m/u so the weights can be worked out by hand: exact log2(m/u), close log2(m/u),
# disagree log2((1 - m.exact - m.close) / (1 - u.exact - u.close)), missing 0.
#   first_name exact log2(.5/.0625) = 3, close log2(.25/.125) = 1, disagree log2(.25/.8125) = -1.7004
#   last_name  exact log2(.5/.03125) = 4, close log2(.25/.0625) = 2, disagree log2(.25/.90625) = -1.8580
#   street     exact log2(.5/.0625) = 3, close 1, disagree -1.7004 (as first_name)
#   city       exact log2(.5/.125) = 2, no close level: disagree log2(.5/.875) = -0.8074
#   postal     exact log2(.75/.1875) = 2, disagree log2(.25/.8125) = -1.7004
#   phone      exact log2(.5/(1/1024)) = 9, disagree log2(.5/(1023/1024)) = -0.9986
FS = {
    "threshold": 8,
    "fields": {
        "first_name": {
            "close": 0.9,
            "m": {"exact": 0.5, "close": 0.25},
            "u": {"exact": 0.0625, "close": 0.125},
        },
        "last_name": {
            "close": 0.9,
            "m": {"exact": 0.5, "close": 0.25},
            "u": {"exact": 0.03125, "close": 0.0625},
        },
        "street": {"close": 0.8, "m": {"exact": 0.5, "close": 0.25}, "u": {"exact": 0.0625, "close": 0.125}},
        "city": {"m": {"exact": 0.5}, "u": {"exact": 0.125}},
        "postal_code": {"m": {"exact": 0.75}, "u": {"exact": 0.1875}},
        "phone": {"m": {"exact": 0.5}, "u": {"exact": 1 / 1024}},
    },
    "replaced_name": {"min_weight": 4, "given_name_needs": ["phone"]},
}
ADDRESS = ("12 Lorimo Street", "Vakaville", "4021")


def people(rows):
    cols = ["record_id", "first_name", "last_name", "street", "city", "postal_code", "phone"]
    return pd.DataFrame(rows, columns=cols)


def score_pairs(rows, pairs):
    norm = normalise_table(pa.Table.from_pandas(people(rows), preserve_index=False), "lead", {})
    i = np.array([p[0] for p in pairs])
    j = np.array([p[1] for p in pairs])
    return fs_person_scores(norm, i, j, FS)


def test_level_weights_by_hand():
    w = fs_weights(FS["fields"]["first_name"])
    assert w[MISSING] == 0 and w[EXACT] == 3 and w[CLOSE] == 1
    assert w[DISAGREE] == pytest.approx(math.log2(0.25 / 0.8125))  # -1.7004
    city = fs_weights(FS["fields"]["city"])  # no close level: a near value disagrees
    assert city[EXACT] == 2 and city[DISAGREE] == pytest.approx(math.log2(0.5 / 0.875))


def test_weight_sums_of_hand_built_pairs():
    rows = [
        ("P0", "Tivaro", "Kemuda", *ADDRESS, None),
        # names swapped: first 3 + last 4 (compared crosswise) + street 3 + city 2 + postal 2 = 14
        ("P1", "Kemuda", "Tivaro", *ADDRESS, None),
        # first 3 + last close (JW kemuda/kemudas 0.971 >= 0.9) 2 + street 3
        # + city disagrees -0.8074 + postal missing 0 = 7.1926 < threshold 8: no match
        ("P2", "Tivaro", "Kemudas", "12 Lorimo Street", "Dorabay", None, None),
        # the same phone, nothing else but the names: 3 + 4 + 9 = 16
        ("P3", "Tivaro", "Kemuda", None, None, None, "+1 555 0100 2233"),
        ("P4", "Tivaro", "Kemuda", None, None, None, "555-0100-2233"),
    ]
    ok, total, compatible, replaced = score_pairs(rows, [(0, 1), (0, 2), (3, 4)])
    assert total == pytest.approx([14.0, 3 + 2 + 3 + math.log2(0.5 / 0.875), 16.0])
    assert total[1] == pytest.approx(7.1926, abs=1e-4)
    assert ok.tolist() == [True, False, True]
    assert compatible.tolist() == [True, True, True] and not replaced.any()


def test_replaced_surname_matches_and_the_household_blocker_rejects():
    rows = [
        ("P0", "Tivaro", "Kemuda", *ADDRESS, None),
        # maiden name: first 3, last disagrees -1.8580; the other fields 3 + 2 + 2 = 7 >= min_weight 4
        # and the address agrees: replaced-name match, total 3 - 1.8580 + 7 = 8.1420
        ("P1", "Tivaro", "Rasolu", *ADDRESS, None),
        # same address and surname, another given name, nothing else: another member of the
        # household (given name disagrees -1.7004 + 4 + 7 = 9.2996 >= 8, still rejected)
        ("P2", "Selani", "Kemuda", *ADDRESS, None),
        # the same with the same phone on both: the replaced given name has its personal evidence,
        # 9.2996 + 9 = 18.2996
        ("P3", "Tivaro", "Kemuda", *ADDRESS, "555 0100 9999"),
        ("P4", "Selani", "Kemuda", *ADDRESS, "555 0100 9999"),
    ]
    ok, total, compatible, replaced = score_pairs(rows, [(0, 1), (0, 2), (3, 4)])
    assert total == pytest.approx([8.1420, 9.2996, 18.2996], abs=1e-4)
    assert ok.tolist() == [True, False, True]
    assert replaced.tolist() == [True, False, True]
    # the household pair keeps the two records' clusters apart (no chaining through it)
    assert compatible.tolist() == [True, False, False]


def test_shipped_config_joins_a_maiden_name_not_a_household_member():
    cfg = load_config().section("duplicates")
    df = pd.DataFrame(
        {
            "record_id": ["P1", "P2", "P3"],
            "first_name": ["Tivaro", "Tivaro", "Selani"],
            "last_name": ["Kemuda", "Rasolu", "Kemuda"],
            "company": None,
            "email": None,
            "street": ["12 Lorimo Street"] * 3,
            "city": ["Vakaville"] * 3,
            "postal_code": ["4021"] * 3,
            "state": ["nsw"] * 3,
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
        }
    )
    r = find_duplicates(df, "lead", cfg["objects"]["lead"], cfg["company_suffixes"])
    assert set(zip(r.duplicates.record_id, r.duplicates.related_id, strict=True)) == {("P2", "P1")}


def test_a_postal_code_typo_still_meets_on_the_street_name():
    # neither the postal code nor the house number is shared: the street-name keys bring the pair
    # together (street_name + city)
    cfg = load_config().section("duplicates")
    df = pd.DataFrame(
        {
            "record_id": ["P1", "P2"],
            "first_name": ["Tivaro", "Tivaro"],
            "last_name": ["Kemuda", "Kemudda"],
            "company": None,
            "email": None,
            "street": ["12 Lorimo Street", "21 Lorimo Street"],
            "city": ["Vakaville", "Vakaville"],
            "postal_code": ["4021", "4012"],
            "state": ["nsw", "nsw"],
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02"]),
        }
    )
    rules = cfg["objects"]["lead"]
    r = find_duplicates(df, "lead", rules, cfg["company_suffixes"])
    assert r.duplicates.record_id.tolist() == ["P2"]
    no_street_keys = [k for k in rules["person"]["blocking"] if not {"street_name", "street_word"} & set(k)]
    r = find_duplicates(
        df,
        "lead",
        {**rules, "person": {**rules["person"], "blocking": no_street_keys}},
        cfg["company_suffixes"],
    )
    assert r.duplicates.empty


def _field(**kw):
    base = {"close": 0.9, "m": {"exact": 0.6, "close": 0.2}, "u": {"exact": 0.01, "close": 0.02}}
    return {**base, **kw}


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (_field(m={"exact": 0.01, "close": 0.2}), r"m\.exact.*above u\.exact"),  # m == u
        (_field(m={"exact": 0.6, "close": 0.01}), r"m\.close.*above u\.close"),  # m < u
        (_field(m={"exact": 1.0, "close": 0.2}), "less than 1"),  # a probability of 1
        (_field(u={"exact": 0.0, "close": 0.02}), "greater than 0"),  # a probability of 0
        (_field(m={"exact": 0.9, "close": 0.2}), "exact \\+ close below 1"),
        (_field(m={"exact": 0.6}), r"m\.close.*close threshold"),  # close level on one side only
        (_field(close=1.5), "less than 1"),
    ],
)
def test_the_model_rejects_bad_probabilities(field, message):
    fs = {"threshold": 30, "fields": {"first_name": _field(), "last_name": field}}
    with pytest.raises(ValidationError, match=message):
        FellegiSunter.model_validate(fs)


def test_the_model_rejects_a_threshold_a_shared_name_alone_reaches():
    # names exact: log2(.6/.01) * 2 = 11.81; a threshold of 11 would match on the name alone
    with pytest.raises(ValidationError, match="a shared name alone must not match"):
        FellegiSunter.model_validate(
            {"threshold": 11, "fields": {"first_name": _field(), "last_name": _field()}}
        )
    assert FellegiSunter.model_validate(
        {"threshold": 12, "fields": {"first_name": _field(), "last_name": _field()}}
    )


def test_quality_yaml_errors_name_the_path():
    data = load_config().section("duplicates")
    policy = {
        "reconciliation": {"variance_threshold_pct": 1},
        "duplicates": {
            "objects": {
                "lead": {
                    "fields": {"first_name": "first_name"},
                    "person": {
                        "fellegi_sunter": {
                            "threshold": 30,
                            "fields": {
                                "first_name": _field(),
                                "last_name": _field(m={"exact": 0.005, "close": 0.2}),
                            },
                        }
                    },
                }
            }
        },
    }
    assert data  # the shipped file loads (its model validated it)
    with pytest.raises(ConfigError, match="duplicates.objects.lead.person.fellegi_sunter.fields.last_name"):
        validate("quality", policy)
