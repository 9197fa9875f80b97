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
from datetime import date, datetime, timedelta
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


@dataclass(frozen=True)
class Period:
    """One bucket of one scope's series: [start, end) and its value (NaN when it has none)."""

    start: date
    end: date
    value: float


def period_start(day: date, as_of_date: date, grain: str) -> date:
    """The start of the period holding ``day``: the day itself, or its 7-day bucket ending before as-of."""
    if grain == "day":
        return day
    back = (as_of_date - day).days  # >= 1 for a complete day
    k = (back + 6) // 7
    return as_of_date - timedelta(days=7 * k)


def _moment(value: Any) -> datetime:
    """A series' day (DATE) or sync time (TIMESTAMP) as a datetime; ISO text is read the same way."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value))


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _periods(moments: list[tuple[datetime, float, float]], spec: Series, as_of_date: date) -> list[Period]:
    """Bucket one scope's (day or sync time, numerator, denominator) rows into periods (sorted by start).

    NaN is a missing numerator/denominator. Sums skip NaN and are NaN only when every value is;
    ``aggregate: last`` takes each column's last non-missing value of the period.
    """
    if spec.grain == "sync":  # one period per sync, in the order of the syncs
        return [
            Period(ts.date(), ts.date(), num if math.isnan(den) else num / den)
            for ts, num, den in sorted(moments, key=lambda r: r[0])
        ]
    step = 1 if spec.grain == "day" else 7
    rows = [(ts.date(), num, den) for ts, num, den in moments if ts.date() < as_of_date]
    rate = any(not math.isnan(den) for _, _, den in rows)
    buckets: dict[date, list[tuple[date, float, float]]] = {}
    for r in sorted(rows, key=lambda r: r[0]):
        buckets.setdefault(period_start(r[0], as_of_date, spec.grain), []).append(r)
    values: dict[date, float] = {}
    if spec.aggregate == "last":
        for start, rs in buckets.items():
            num = next((n for _, n, _ in reversed(rs) if not math.isnan(n)), math.nan)
            den = next((d for _, _, d in reversed(rs) if not math.isnan(d)), math.nan)
            values[start] = num / den if rate else num
    else:
        for start, rs in buckets.items():
            nums = [n for _, n, _ in rs if not math.isnan(n)]
            dens = [d for _, _, d in rs if not math.isnan(d)]
            num = math.fsum(nums) if nums else math.nan
            den = math.fsum(dens) if dens else math.nan
            if rate:
                if den > 0:  # NaN > 0 is False: a period without a denominator has no rate
                    values[start] = num / den
            else:
                values[start] = num
        if not rate and values:
            # an additive series: a period without rows is a real zero, from the scope's first period on
            first, last = min(values), as_of_date - timedelta(days=step)
            n = (last - first).days // step + 1
            values = {
                first + timedelta(days=step * i): values.get(first + timedelta(days=step * i), 0.0)
                for i in range(max(n, 0))
            }
    return [Period(start, start + timedelta(days=step), values[start]) for start in sorted(values)]


def _training(periods: list[Period], i: int, first_detect: int, knobs: Defaults, grain: str) -> list[float]:
    """The training values of the point at index ``i``: the periods before the detection window."""
    before = periods[:first_detect]
    if knobs.seasonality == "day_of_week" and grain == "day":
        weekday = periods[i].start.weekday()
        before = [p for p in before if p.start.weekday() == weekday]
    return [p.value for p in before[-knobs.training_periods :]] if knobs.training_periods > 0 else []


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


def _by_scope(
    frame: pd.DataFrame, wanted: set[str]
) -> dict[tuple[str, str], list[tuple[datetime, float, float]]]:
    """The frame's rows per (scope_type, scope_value), sorted by scope; rows with a missing scope
    are left out (as a pandas groupby would)."""
    groups: dict[tuple[str, str], list[tuple[datetime, float, float]]] = {}
    columns = (frame[c].tolist() for c in ("scope_type", "scope_value", "day", "numerator", "denominator"))
    for scope_type, scope_value, day, num, den in zip(*columns, strict=True):
        if scope_type not in wanted or _missing_key(scope_type) or _missing_key(scope_value):
            continue
        groups.setdefault((scope_type, scope_value), []).append((_moment(day), _nan(num), _nan(den)))
    return dict(sorted(groups.items()))


def _missing_key(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def score_series(
    name: str, spec: Series, knobs: Defaults, frame: pd.DataFrame, as_of_date: date
) -> list[Point]:
    """Score the last ``detection_periods`` periods of every scope of one series."""
    out: list[Point] = []
    for (scope_type, scope_value), rows in _by_scope(frame, set(spec.scopes)).items():
        periods = _periods(rows, spec, as_of_date)
        if not periods:
            continue
        if spec.grain == "sync":
            first_detect = max(len(periods) - knobs.detection_periods, 0)
        else:
            # the detection window is the last complete periods of the calendar: a rate or level with
            # no value there is not scored (no data is not evidence), and an old point is never re-scored
            step = 1 if spec.grain == "day" else 7
            cutoff = as_of_date - timedelta(days=step * knobs.detection_periods)
            periods = [p for p in periods if p.start < as_of_date]
            first_detect = sum(p.start < cutoff for p in periods)
            if first_detect == len(periods):
                last = as_of_date - timedelta(days=step)
                n = min(len(periods), knobs.training_periods)
                out.append(_missing(name, spec, str(scope_type), str(scope_value), last, step, n, knobs))
                continue
        for i in range(first_detect, len(periods)):
            period = periods[i]
            value = float(period.value)
            nums, outcome, direction, reason = judge(
                value, _training(periods, i, first_detect, knobs, spec.grain), knobs
            )
            out.append(
                Point(
                    series=name,
                    scope_type=str(scope_type),
                    scope_value=str(scope_value),
                    grain=spec.grain,
                    period_start=period.start,
                    period_end=period.end,
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
