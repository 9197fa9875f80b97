"""History awareness: what the warehouse's history covers, so history figures never get invented.

Week-over-week and quarter-to-date movement, slippage and forecast changes compare today's state
with an earlier day; stage aging needs the day each deal entered its stage. Both exist only where
history does: OpportunityFieldHistory (the source's field-change log) from its first change, or
the daily live snapshots the KPI build keeps from the first load on. Before that day a comparison
is "not available: history starts <date>", never today's state copied back (which would report
"flat" and 0 won / 0 lost as fact).

metrics.yaml declares what each metric needs (``needs`` objects/fields, ``history``):
``comparisons`` = a start snapshot per movement comparison (kpis.yaml), ``stage_entry`` = the day
a deal entered its stage, ``field_history`` = the stages a deal passed through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from salesops import sql
from salesops.reference import to_date

if TYPE_CHECKING:
    from salesops.policy.models.kpis import MetricModel
    from salesops.warehouse.core import Warehouse

HISTORY_OBJECT = "opportunity_field_history"


@dataclass(frozen=True)
class HistoryCoverage:
    """The days the warehouse can tell the pipeline's state for."""

    as_of: date
    field_history_start: date | None  # first OpportunityFieldHistory change; None = none loaded
    first_live_snapshot: date | None  # first kept live snapshot (before this build)

    @property
    def history_start(self) -> date:
        """The first day whose state is known: field history or a live snapshot, else the as-of day."""
        days = [d for d in (self.field_history_start, self.first_live_snapshot, self.as_of) if d is not None]
        return min(days)

    def covers(self, day: date) -> bool:
        return day >= self.history_start

    def comparison_reason(self, label: str, start: date) -> str | None:
        """Why a comparison starting on ``start`` cannot be computed (None when it can)."""
        if self.covers(start):
            return None
        return (
            f"not available: history starts {self.history_start.isoformat()} ({label} needs the pipeline "
            f"as of {start.isoformat()}; have {(self.as_of - self.history_start).days} of "
            f"{(self.as_of - start).days} days)"
        )

    @property
    def stage_entry_reason(self) -> str | None:
        """Why days in the current stage cannot be told (None when field history is loaded)."""
        if self.field_history_start is not None:
            return None
        return (
            f"not available: history starts {self.history_start.isoformat()} (stage aging needs the day "
            "each deal entered its stage, from OpportunityFieldHistory, which the source has not delivered; "
            "the created date is not a stage-entry date)"
        )


def measure(wh: Warehouse, as_of: date) -> HistoryCoverage:
    """Read the history bounds (before the snapshot of this build is written)."""
    fh_start = None
    if wh.table_exists("staging.stg_crm__opportunity_field_history"):
        row = wh.query(sql.render("kpis/history/field_history_start.sql", dialect=wh.dialect))[0]
        if int(row["n"] or 0) > 0:
            fh_start = to_date(row["first_day"])
    first_live = None
    if wh.table_exists("marts.fct_pipeline_snapshot"):
        first_live = to_date(
            wh.query(sql.render("kpis/history/first_live_snapshot.sql", dialect=wh.dialect))[0]["first_day"]
        )
    return HistoryCoverage(as_of=as_of, field_history_start=fh_start, first_live_snapshot=first_live)


def metric_needs(m: MetricModel) -> tuple[list[tuple[str, tuple[str, ...]]], str | None]:
    """A registry metric's declared needs: (object, fields) pairs and its history kind (or None)."""
    needs = [(obj, tuple(fields)) for obj, fields in (m.needs or {}).items()]
    return needs, m.history
