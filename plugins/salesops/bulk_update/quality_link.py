"""The link between plans and the quality job's exception queue (schema ``quality``).

A plan type may declare in bulk_updates.yaml the quality checks whose open exceptions it fixes
(``quality_checks``). When the quality tables exist and the latest finished quality run is for the
same as-of as the staging data the plan is built from, the plan records in ``scope.quality``:

- ``open_exceptions``: records with an open exception of those checks (the queue, latest run);
- ``plan_records_in_queue`` / ``plan_records_not_in_queue``: the plan's records that are / are not
  among them (the plan's rules and the check's rule are not always the same rule);
- ``unfixed_open_exceptions`` and ``unfixed_by_reason``: open exceptions the plan leaves alone and
  why (include/sql/bulk_update/quality_gaps_<plan type>.sql classifies them with the plan's own
  parameters: e.g. "not placeable", "within extra_margin_days", "status ... is not an open status");
- ``by_check``: the same counts per check.

With ``only_open_exceptions`` the plan is restricted to records in the queue. Without the quality
tables, without a run, or with a run for another as-of, the plan builds as before and
``scope.quality.status`` says why no counts were recorded (only_open_exceptions and plan types that
need the run, like mark_duplicate_leads, fail instead: they cannot be computed honestly).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from salesops.bulk_update import plan_types, store
from salesops.bulk_update.model import CHANGE, PlanError, limit_records, values_params
from salesops.bulk_update.settings import PlanType
from salesops.config import get_object
from salesops.warehouse import Warehouse

log = logging.getLogger(__name__)

CURRENT = "current"
STALE = "stale"
NO_TABLES = "no_quality_tables"
NO_RUN = "no_quality_run"
# Reason recorded when the gap SQL finds nothing that explains the gap.
OTHER_REASON = "not proposed by the plan's rules"
IN_PLAN = "in plan"
EXCLUDED_REASON = "not an open exception: excluded (only_open_exceptions)"
DEFERRED_REASON = "left for a later plan (record_limit)"


@dataclass
class QualityLink:
    """What the plan type can know from the quality job at this as-of."""

    status: str
    checks: tuple[str, ...]
    api_name: str
    run_id: str | None = None
    run_as_of: datetime | None = None
    message: str = ""
    exceptions: dict[str, set[str]] = field(default_factory=dict)  # record id -> open check ids

    @property
    def current(self) -> bool:
        return self.status == CURRENT

    def params(self) -> dict[str, Any]:
        """Bind parameters of the open_exceptions macro (include/sql/bulk_update/_macros.sql)."""
        return {
            "quality_object": self.api_name,
            "quality_run_id": self.run_id,
            **values_params("quality_check", [{"check_id": c} for c in self.checks]),
        }


def _naive(ts: Any) -> datetime | None:
    if ts is None:
        return None
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def resolve(wh: Warehouse, pt: PlanType, as_of: datetime) -> QualityLink | None:
    """The quality link of ``pt`` at the staging data's ``as_of`` (None: the type declares no checks).

    Reads the latest finished quality run and, when it is for the same as-of, the open exceptions
    of the plan type's checks that run saw.
    """
    if not pt.quality_checks:
        return None
    api_name = get_object(pt.object).api_name
    link = QualityLink(status=NO_TABLES, checks=pt.quality_checks, api_name=api_name)
    if not all(wh.table_exists(t) for t in ("quality.run", "quality.exception_queue")):
        link.message = (
            "no quality tables in the warehouse (quality job not run): exception counts not recorded"
        )
        return link
    runs = store.query(wh, "quality_latest_run.sql")
    if not runs:
        link.status, link.message = NO_RUN, "no finished quality run: exception counts not recorded"
        return link
    link.run_id, link.run_as_of = runs[0]["run_id"], _naive(runs[0]["as_of"])
    staging_as_of = _naive(as_of)
    if link.run_as_of != staging_as_of:
        link.status = STALE
        link.message = (
            f"the latest quality run {link.run_id} is for as-of {link.run_as_of}, the staging data is as of "
            f"{staging_as_of}: exception counts not recorded (run the quality DAG on this load first)"
        )
        return link
    link.status = CURRENT
    for r in store.query(wh, "quality_open_exceptions.sql", link.params(), n_checks=len(link.checks)):
        link.exceptions.setdefault(str(r["record_id"]), set()).add(r["check_id"])
    return link


def gap_reasons(
    wh: Warehouse, pt: PlanType, link: QualityLink, jinja: dict[str, Any], params: dict[str, Any]
) -> dict[str, str]:
    """record id -> why the plan's rules leave that open exception alone (absent: they would not)."""
    name = plan_types.quality_gaps_sql(pt.name)
    if not name:
        return {}
    rows = store.query(wh, name, {**params, **link.params()}, **jinja, n_checks=len(link.checks))
    # One reason per record: a record open under two checks gets the first non-null one.
    out: dict[str, str] = {}
    for r in sorted(rows, key=lambda r: (str(r["record_id"]), r["check_id"])):
        if r["reason"] and str(r["record_id"]) not in out:
            out[str(r["record_id"])] = r["reason"]
    return out


def link_plan(
    wh: Warehouse,
    pt: PlanType,
    link: QualityLink,
    rows: list[Any],
    jinja: dict[str, Any],
    params: dict[str, Any],
    *,
    only_open_exceptions: bool,
    record_limit: int | None = None,
) -> tuple[list[Any], dict[str, Any], list[dict[str, Any]]]:
    """Restrict the rows (only_open_exceptions, then record_limit) and describe the plan against
    the queue.

    Returns:
        (rows, scope.quality, one detail row per open exception and per plan record outside the
        queue: record_id, checks, in_plan, reason) - the detail goes to quality_exceptions.csv.
    """
    scope: dict[str, Any] = {
        "status": link.status,
        "checks": list(link.checks),
        "run_id": link.run_id,
        "run_as_of": str(link.run_as_of) if link.run_as_of else None,
        "only_open_exceptions": only_open_exceptions,
    }
    if not link.current:
        if only_open_exceptions:
            raise PlanError(
                f"plan type {pt.name}: only_open_exceptions needs a current quality run; {link.message}"
            )
        scope["message"] = link.message
        rows, _ = limit_records(rows, record_limit)
        return rows, scope, []
    queue = set(link.exceptions)
    proposed = {r.record_id for r in rows if r.role == CHANGE}
    if only_open_exceptions:
        rows = [dataclasses.replace(r, seq=i) for i, r in enumerate(r for r in rows if r.record_id in queue)]
        scope["excluded_not_in_queue"] = len(proposed - queue)
    rows, deferred = limit_records(rows, record_limit)
    if record_limit is not None:
        scope["deferred_by_record_limit"] = len(deferred)
    in_plan = {r.record_id for r in rows if r.role == CHANGE}
    unfixed = queue - in_plan
    # Records only_open_exceptions dropped are outside the queue and record_limit's are named as
    # deferred, so every other unfixed exception is one the plan's rules did not propose; the gap
    # SQL says why.
    reasons = gap_reasons(wh, pt, link, jinja, params) if unfixed - deferred else {}
    why = {rid: DEFERRED_REASON if rid in deferred else reasons.get(rid, OTHER_REASON) for rid in unfixed}
    by_check: dict[str, dict[str, int]] = {}
    for c in link.checks:
        ids = {rid for rid, cs in link.exceptions.items() if c in cs}
        by_check[c] = {"open": len(ids), "in_plan": len(ids & in_plan), "unfixed": len(ids - in_plan)}
    scope.update(
        open_exceptions=len(queue),
        plan_records_in_queue=len(in_plan & queue),
        plan_records_not_in_queue=len(in_plan - queue),
        unfixed_open_exceptions=len(unfixed),
        unfixed_by_reason=dict(sorted(Counter(why.values()).items(), key=lambda kv: (-kv[1], kv[0]))),
        by_check=by_check,
    )
    detail = [
        {
            "record_id": rid,
            "checks": ",".join(sorted(link.exceptions.get(rid, ()))),
            "in_plan": rid in in_plan,
            "reason": IN_PLAN
            if rid in in_plan
            else why.get(rid, DEFERRED_REASON if rid in deferred else EXCLUDED_REASON),
        }
        for rid in sorted(queue | proposed)
    ]
    log.info(
        "plan type %s vs quality run %s: %d open exceptions, %d in the plan, %d unfixed %s; %d plan records not in the queue",
        pt.name,
        link.run_id,
        len(queue),
        len(in_plan & queue),
        len(unfixed),
        scope["unfixed_by_reason"],
        len(in_plan - queue),
    )
    return rows, scope, detail
