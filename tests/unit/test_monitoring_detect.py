"""Scoring and episode folding of the monitoring package on hand-built series (no warehouse)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from salesops import policy
from salesops.monitoring import store
from salesops.monitoring.detect import judge, period_start, score_series
from salesops.policy.models.monitoring import Defaults, MonitoringPolicy, Series

AS_OF = date(2026, 11, 2)


def frame(values: dict[date, float], scope=("all", "all"), den: dict[date, float] | None = None):
    return pd.DataFrame(
        [
            {
                "scope_type": scope[0],
                "scope_value": scope[1],
                "day": d,
                "numerator": v,
                "denominator": (den or {}).get(d),
            }
            for d, v in values.items()
        ]
    )


def daily(values: list[float], end: date = AS_OF) -> dict[date, float]:
    """values for the days before ``end``, the last value on end - 1."""
    return {end - timedelta(days=len(values) - i): v for i, v in enumerate(values)}


def test_week_buckets_end_the_day_before_as_of():
    assert period_start(date(2026, 11, 1), AS_OF, "week") == date(2026, 10, 26)
    assert period_start(date(2026, 10, 26), AS_OF, "week") == date(2026, 10, 26)
    assert period_start(date(2026, 10, 25), AS_OF, "week") == date(2026, 10, 19)
    assert period_start(date(2026, 10, 25), AS_OF, "day") == date(2026, 10, 25)


def test_judge_hand_computed_z_score():
    knobs = Defaults()
    train = [10, 12, 11, 9, 10, 12, 11, 10, 9, 11, 10, 12, 11, 10]  # mean 10.571..., sample sd 0.9376
    nums, outcome, direction, _ = judge(2.0, train, knobs)
    mean = sum(train) / 14
    sd = math.sqrt(sum((v - mean) ** 2 for v in train) / 13)
    assert nums["expected"] == pytest.approx(mean)
    assert nums["stddev"] == pytest.approx(sd)
    assert nums["score"] == pytest.approx((2.0 - mean) / sd)
    assert nums["lower_bound"] == pytest.approx(mean - 3 * sd)
    assert (outcome, direction) == ("anomaly", "drop")
    # inside the band
    assert judge(11.0, train, knobs)[1] == "normal"


def test_judge_knobs_direction_min_changes_and_min_training():
    train = [100.0, 101, 99, 100, 102, 98, 100]
    assert judge(110, train, Defaults(direction="drop"))[1] == "normal"
    assert judge(110, train, Defaults(direction="spike"))[1:3] == ("anomaly", "spike")
    # +10% is a 7-sigma move on a stable series, but under a 20% minimum relative change: noise
    nums, outcome, _, reason = judge(110, train, Defaults(min_relative_change=0.2))
    assert outcome == "normal" and "min_relative_change" in reason and nums["score"] > 7
    assert judge(110, train, Defaults(min_absolute_change=20))[1] == "normal"
    _, outcome, _, reason = judge(500, train[:3], Defaults())
    assert outcome == "not_evaluated"
    assert reason == "not evaluated (needs 7 points, have 3)"


def test_flat_training_window_scores_infinite_only_when_value_differs():
    flat = [0.0] * 10
    assert judge(0.0, flat, Defaults())[1] == "normal"
    nums, outcome, direction, _ = judge(25.0, flat, Defaults(min_absolute_change=5))
    assert math.isinf(nums["score"]) and (outcome, direction) == ("anomaly", "spike")
    assert judge(3.0, flat, Defaults(min_absolute_change=5))[1] == "normal"


def test_weekly_series_fills_missing_days_with_zero_and_scores_the_last_week():
    spec = Series(sql="lead_volume", grain="week", description="leads")
    knobs = Defaults(training_periods=8, min_training_points=7)
    # 10 leads per week for 12 weeks, then 2 in the last week (one day only)
    values = {}
    for w in range(12, 0, -1):
        values[AS_OF - timedelta(days=7 * w + 1)] = 10.0
    values[AS_OF - timedelta(days=1)] = 2.0
    values[AS_OF] = 50.0  # the incomplete as-of day is never counted
    pts = score_series("lead_volume", spec, knobs, frame(values), AS_OF)
    assert len(pts) == 1
    p = pts[0]
    assert p.period_start == date(2026, 10, 26) and p.period_end == AS_OF
    assert p.value == 2.0 and p.expected == 10.0 and p.training_points == 8
    assert p.outcome == "anomaly" and math.isinf(p.score) and p.score < 0


def test_rate_series_divides_sums_and_day_of_week_seasonality_trains_on_the_same_weekday():
    spec = Series(sql="x", grain="day", description="rate", unit="rate")
    knobs = Defaults(seasonality="day_of_week", training_periods=4, min_training_points=4)
    num, den = {}, {}
    for i in range(1, 36):
        d = AS_OF - timedelta(days=i)
        # Sundays run at 20%, other days at 50%: a Sunday at 20% is normal with seasonality
        num[d], den[d] = (2.0, 10.0) if d.weekday() == 6 else (5.0 + (i % 2), 10.0)
    pts = score_series("x", spec, knobs, frame(num, den=den), AS_OF)
    assert [p.period_start.weekday() for p in pts] == [6]  # 2026-11-01 is a Sunday
    assert pts[0].value == pytest.approx(0.2) and pts[0].expected == pytest.approx(0.2)
    assert pts[0].outcome == "normal" and pts[0].training_points == 4
    # the six days before that Sunday are weekdays: against them the Sunday dip looks like a drop
    week = Defaults(training_periods=6, min_training_points=6)
    no_season = score_series("x", spec, week, frame(num, den=den), AS_OF)
    assert (no_season[0].outcome, no_season[0].direction) == ("anomaly", "drop")


def test_sync_series_scores_the_last_sync_per_object():
    spec = Series(sql="sync_rows", grain="sync", description="rows", scopes=["object"])
    rows = []
    for i in range(10):
        rows.append(("Lead", datetime(2026, 10, 20, 6) + timedelta(days=i), 240.0 if i < 9 else 100.0, 24.0))
    f = pd.DataFrame(rows, columns=["scope_value", "day", "numerator", "denominator"])
    f["scope_type"] = "object"
    f.loc[3, "numerator"] = 250.0
    pts = score_series("sync_rows", spec, Defaults(direction="drop"), f, AS_OF)
    assert len(pts) == 1 and pts[0].value == pytest.approx(100 / 24) and pts[0].training_points == 9
    assert pts[0].outcome == "anomaly" and pts[0].direction == "drop"


def _pol() -> MonitoringPolicy:
    return MonitoringPolicy.model_validate(
        {"series": {"lead_volume": {"sql": "lead_volume", "grain": "week", "description": "Leads"}}}
    )


def _point(outcome, period=date(2026, 10, 26), score=-9.0):
    from salesops.monitoring.detect import Point

    return Point(
        "lead_volume", "all", "all", "week", period, period + timedelta(days=7), 2.0, 10.0, 1.0, 7.0, 13.0,
        score if outcome != "not_evaluated" else None, 8, outcome, "drop" if outcome == "anomaly" else None, "",
    )  # fmt: skip


def test_episodes_open_continue_dedupe_and_resolve():
    pol = _pol()
    t1, t2, t3 = datetime(2026, 11, 2), datetime(2026, 11, 3), datetime(2026, 11, 4)
    f1 = store.fold([], [_point("anomaly")], pol, "r1", t1)
    assert len(f1.opened) == 1 and f1.rows[0]["severity"] == "critical"  # |z| 9 >= critical_score 6
    # a re-run of the same run re-finds the open episode: no copy
    again = store.fold(f1.rows, [_point("anomaly")], pol, "r1", t1)
    assert again.opened == [] and again.continued == f1.opened
    # the next run still sees it: continued, first seen kept, last seen moved
    f2 = store.fold(f1.rows, [_point("anomaly", date(2026, 10, 27), -4.0)], pol, "r2", t2)
    row = f2.rows[0]
    assert f2.continued == f1.opened and row["first_seen_at"] == t1 and row["last_seen_at"] == t2
    assert row["severity"] == "critical"  # never downgraded within an episode
    # not evaluated leaves it open; normal resolves it
    assert store.fold(f2.rows, [_point("not_evaluated")], pol, "r3", t3).rows == []
    f3 = store.fold(f2.rows, [_point("normal", date(2026, 10, 28))], pol, "r3", t3)
    assert f3.resolved == f1.opened and f3.rows[0]["status"] == "resolved" and f3.rows[0]["resolved_at"] == t3


def test_policy_file_validates_and_names_bad_values(tmp_path):
    pol = policy.monitoring(overlay=False)
    assert pol.defaults.sigma == 3.0 and pol.defaults.training_periods == 14
    assert pol.defaults.min_training_points == 7
    assert {"lead_volume", "unassigned_leads", "sync_rows", "commit_by_rep"} <= set(pol.series)
    (tmp_path / "monitoring.yaml").write_text(
        "series:\n  lead_volume:\n    detection: {min_training_points: 30}\n", encoding="utf-8"
    )
    with pytest.raises(
        policy.ConfigError, match=r"monitoring.yaml: series.lead_volume.detection.min_training_points"
    ):
        policy.monitoring(overlay=tmp_path)
    (tmp_path / "monitoring.yaml").write_text("defaults: {sigmaa: 2}\n", encoding="utf-8")
    with pytest.raises(policy.ConfigError, match=r"unknown key 'sigmaa'"):
        policy.monitoring(overlay=tmp_path)


def test_min_baseline_scores_a_change_from_nothing_as_normal():
    nums, outcome, _, reason = judge(456_300.0, [0.0] * 8, Defaults(min_baseline=50_000))
    assert outcome == "normal" and reason == "training mean 0 below min_baseline 50000"
    assert judge(3_000_000.0, [1_500_000.0] * 8, Defaults(min_baseline=50_000))[1] == "anomaly"


def test_concentration_names_the_routing_rule_gap_at_the_narrowest_level():
    from salesops.monitoring.alerts import concentration_cause

    cell = [{"segment": "SMB", "region": "AMER", "leads": 8}, {"segment": "MM", "region": "EMEA", "leads": 2}]
    assert concentration_cause(cell, 0.6).startswith(
        "Routing rule gap: 8 of 10 leads (80%) are segment SMB x region AMER."
    )
    seg = [
        {"segment": "SMB", "region": "AMER", "leads": 4},
        {"segment": "SMB", "region": "EMEA", "leads": 4},
        {"segment": "SMB", "region": "APAC", "leads": 3},
        {"segment": "MM", "region": "AMER", "leads": 1},
    ]
    assert concentration_cause(seg, 0.6).startswith(
        "Routing rule gap: 11 of 12 leads (92%) are segment SMB (every region: AMER, APAC, EMEA)."
    )
    spread = [{"segment": s, "region": r, "leads": 1} for s in ("SMB", "MM", "ENT") for r in ("AMER", "EMEA")]
    assert concentration_cause(spread, 0.6).startswith("Spread over 6 segment x region cells")
    assert concentration_cause([], 0.6) is None
