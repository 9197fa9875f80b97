"""Scoring business series: z-score against a trailing training window.

The input of :func:`score_series` is one series' daily (or per-sync) frame with columns
``scope_type, scope_value, day, numerator, denominator`` (the contract of every SQL file in
include/sql/monitoring/series). It is bucketed into periods of the series' grain, aligned on the
as-of date (a week is the 7 days ending the day before the as-of date; the as-of day is incomplete
and never scored), and the last ``detection_periods`` periods of every scope are scored against
the ``training_periods`` periods before them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from salesops.policy.models.monitoring import Defaults, Series

ANOMALY, NORMAL, NOT_EVALUATED = "anomaly", "normal", "not_evaluated"


@dataclass(frozen=True)
class Point:
    """One scored point of one series and scope."""

    series: str
    scope_type: str
    scope_value: str
    grain: str
    period_start: date
    period_end: date  # exclusive
    value: float | None
    expected: float | None  # mean of the training window
    stddev: float | None
    lower_bound: float | None
    upper_bound: float | None
    score: float | None  # z; +/-inf when the training window is flat and the value differs
    training_points: int
    outcome: str  # anomaly | normal | not_evaluated
    direction: str | None  # drop | spike (of an anomaly)
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def period_start(day: date, as_of_date: date, grain: str) -> date:
    """The start of the period holding ``day``: the day itself, or its 7-day bucket ending before as-of."""
    if grain == "day":
        return day
    back = (as_of_date - day).days  # >= 1 for a complete day
    k = (back + 6) // 7
    return as_of_date - timedelta(days=7 * k)


def _periods(frame: pd.DataFrame, spec: Series, as_of_date: date) -> pd.DataFrame:
    """Bucket one scope's rows into periods: columns period_start, period_end, value (sorted)."""
    import pandas as pd

    f = frame.copy()
    if spec.grain == "sync":
        f["ts"] = pd.to_datetime(f["day"])
        f = f.sort_values("ts")
        is_rate = f["denominator"].notna()
        f["value"] = f["numerator"].astype(float)
        f.loc[is_rate, "value"] = f.loc[is_rate, "numerator"] / f.loc[is_rate, "denominator"]
        f["period_start"] = f["ts"].dt.date
        f["period_end"] = f["ts"].dt.date
        return f[["period_start", "period_end", "value"]].reset_index(drop=True)
    f["day"] = pd.to_datetime(f["day"]).dt.date
    f = f[f["day"] < as_of_date]
    step = 1 if spec.grain == "day" else 7
    f["period_start"] = [period_start(d, as_of_date, spec.grain) for d in f["day"]]
    rate = f["denominator"].notna().any()
    if spec.aggregate == "last":
        g = f.sort_values("day").groupby("period_start", as_index=False).last()
        g["value"] = g["numerator"] / g["denominator"] if rate else g["numerator"]
    else:
        g = f.groupby("period_start", as_index=False)[["numerator", "denominator"]].sum(min_count=1)
        if rate:
            g = g[g["denominator"] > 0]
            g["value"] = g["numerator"] / g["denominator"]
        else:
            # an additive series: a period without rows is a real zero, from the scope's first period on
            g = g.set_index("period_start")
            if not g.empty:
                first = min(g.index)
                last = as_of_date - timedelta(days=step)
                n = (last - first).days // step + 1
                full = [first + timedelta(days=step * i) for i in range(max(n, 0))]
                g = g.reindex(full, fill_value=0.0)
            g = g.rename_axis("period_start").reset_index()
            g["value"] = g["numerator"].astype(float)
    g["period_end"] = [p + timedelta(days=step) for p in g["period_start"]]
    return g[["period_start", "period_end", "value"]].sort_values("period_start").reset_index(drop=True)


def _training(periods: pd.DataFrame, i: int, first_detect: int, knobs: Defaults, grain: str) -> list[float]:
    """The training values of the point at index ``i``: the periods before the detection window."""
    before = periods.iloc[:first_detect]
    if knobs.seasonality == "day_of_week" and grain == "day":
        weekday = periods.iloc[i]["period_start"].weekday()
        before = before[[p.weekday() == weekday for p in before["period_start"]]]
    return [float(v) for v in before["value"].tail(knobs.training_periods)]


def judge(value: float, train: list[float], knobs: Defaults) -> tuple[dict[str, Any], str, str | None, str]:
    """Score one value against its training values: (numbers, outcome, direction, reason)."""
    n = len(train)
    if n < knobs.min_training_points:
        return (
            {"training_points": n},
            NOT_EVALUATED,
            None,
            f"not evaluated (needs {knobs.min_training_points} points, have {n})",
        )
    mean = sum(train) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in train) / (n - 1))
    diff = value - mean
    if std > 0:
        z = diff / std
    else:
        z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
    nums = {
        "expected": mean,
        "stddev": std,
        "lower_bound": mean - knobs.sigma * std,
        "upper_bound": mean + knobs.sigma * std,
        "score": z,
        "training_points": n,
    }
    direction = "spike" if diff > 0 else "drop"
    rel = abs(diff) / abs(mean) if mean != 0 else (math.inf if diff != 0 else 0.0)
    if abs(mean) < knobs.min_baseline:
        return nums, NORMAL, None, f"training mean {mean:g} below min_baseline {knobs.min_baseline:g}"
    if abs(z) < knobs.sigma:
        return nums, NORMAL, None, f"|z| {abs(z):.2f} < {knobs.sigma:g}"
    if knobs.direction != "both" and knobs.direction != direction:
        return nums, NORMAL, None, f"{direction} ignored (direction {knobs.direction})"
    if rel < knobs.min_relative_change:
        return (
            nums,
            NORMAL,
            None,
            f"change {rel:.0%} below min_relative_change {knobs.min_relative_change:.0%}",
        )
    if abs(diff) < knobs.min_absolute_change:
        return (
            nums,
            NORMAL,
            None,
            f"change {abs(diff):g} below min_absolute_change {knobs.min_absolute_change:g}",
        )
    return nums, ANOMALY, direction, f"{direction}: z {z:+.2f}, {value:g} vs expected {mean:g}"


def _missing(
    name: str, spec: Series, scope_type: str, scope_value: str, last: date, step: int, n: int, knobs: Defaults
) -> Point:
    """The last complete period has no value (a level or rate without data): not evaluated, said so."""
    return Point(
        series=name,
        scope_type=scope_type,
        scope_value=scope_value,
        grain=spec.grain,
        period_start=last,
        period_end=last + timedelta(days=step),
        value=None,
        expected=None,
        stddev=None,
        lower_bound=None,
        upper_bound=None,
        score=None,
        training_points=n,
        outcome=NOT_EVALUATED,
        direction=None,
        reason=f"not evaluated (no value for the period from {last.isoformat()}; "
        f"needs {knobs.min_training_points} points, have {n})",
    )


def score_series(
    name: str, spec: Series, knobs: Defaults, frame: pd.DataFrame, as_of_date: date
) -> list[Point]:
    """Score the last ``detection_periods`` periods of every scope of one series."""
    out: list[Point] = []
    wanted = set(spec.scopes)
    for (scope_type, scope_value), rows in frame.groupby(["scope_type", "scope_value"], sort=True):
        if scope_type not in wanted:
            continue
        periods = _periods(rows, spec, as_of_date)
        if periods.empty:
            continue
        if spec.grain == "sync":
            first_detect = max(len(periods) - knobs.detection_periods, 0)
        else:
            # the detection window is the last complete periods of the calendar: a rate or level with
            # no value there is not scored (no data is not evidence), and an old point is never re-scored
            step = 1 if spec.grain == "day" else 7
            cutoff = as_of_date - timedelta(days=step * knobs.detection_periods)
            periods = periods[periods["period_start"] < as_of_date].reset_index(drop=True)
            first_detect = int((periods["period_start"] < cutoff).sum())
            if first_detect == len(periods):
                last = as_of_date - timedelta(days=step)
                n = min(len(periods), knobs.training_periods)
                out.append(_missing(name, spec, str(scope_type), str(scope_value), last, step, n, knobs))
                continue
        for i in range(first_detect, len(periods)):
            row = periods.iloc[i]
            value = float(row["value"])
            nums, outcome, direction, reason = judge(
                value, _training(periods, i, first_detect, knobs, spec.grain), knobs
            )
            out.append(
                Point(
                    series=name,
                    scope_type=str(scope_type),
                    scope_value=str(scope_value),
                    grain=spec.grain,
                    period_start=row["period_start"],
                    period_end=row["period_end"],
                    value=value,
                    expected=nums.get("expected"),
                    stddev=nums.get("stddev"),
                    lower_bound=nums.get("lower_bound"),
                    upper_bound=nums.get("upper_bound"),
                    score=nums.get("score"),
                    training_points=int(nums["training_points"]),
                    outcome=outcome,
                    direction=direction,
                    reason=reason,
                )
            )
    return out
