"""Task bodies of the report_packs DAG (plain values in, plain values out; testable without Airflow).

Flow: ``gate`` -> ``plan`` (pack x scope jobs) -> ``render`` (mapped) -> ``check`` (mapped) ->
``deliver`` (mapped: publish or hold) -> ``summarize`` (delivery log, on-time KPI).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesops.packs.render import PendingPack
    from salesops.warehouse.core import Warehouse

log = logging.getLogger(__name__)


class PackPlanError(ValueError):
    """Bad params for a pack run (unknown pack, scope, as-of that the marts are not built for)."""


class NothingToReport(RuntimeError):
    """No KPI build exists yet (a fresh deployment): a scheduled pack run has nothing to render."""


# While ``produce`` runs a pack, the warehouse of its connection id (None until first resolved): its
# slices' render, check and deliver steps share it instead of looking the Airflow connection up
# three times per slice.
_PER_PACK: dict[str, Warehouse | None] = {}


def _warehouse(warehouse_conn_id: str) -> Warehouse:
    from salesops.warehouse.hook import WarehouseHook

    wh = _PER_PACK.get(warehouse_conn_id)
    if wh is None:
        wh = WarehouseHook(warehouse_conn_id).warehouse
        if warehouse_conn_id in _PER_PACK:
            _PER_PACK[warehouse_conn_id] = wh
    return wh


def gate(params: dict[str, Any], warehouse_conn_id: str) -> dict[str, Any]:
    """The quality gate for the data's as-of time (never fails the task: a failed gate holds packs).

    Raises:
        PackPlanError: ``as_of`` was given and the KPI marts are built for another date.
    """
    from salesops.kpis.runner import ready_as_of
    from salesops.packs.checks import quality_gate
    from salesops.packs.render import pack_context

    wh = _warehouse(warehouse_conn_id)
    if not wh.table_exists("marts.kpi_context"):
        raise NothingToReport("no KPI build yet (marts.kpi_context does not exist): nothing to report")
    info = pack_context(wh)
    ready = ready_as_of(wh)
    if ready != str(info["as_of_date"])[:10]:
        # A scheduled run can start while kpi_transforms is rebuilding the marts: fail (and retry)
        # rather than render from a half-built set.
        raise PackPlanError(
            f"KPI marts are not complete for {str(info['as_of_date'])[:10]} "
            f"(last complete build: {ready}); kpi_transforms is running or failed"
        )
    wanted = params.get("as_of")
    if wanted and str(info["as_of_date"])[:10] != str(wanted)[:10]:
        raise PackPlanError(
            f"as_of {wanted} requested but the KPI marts are built for {info['as_of_date']}: "
            f"run kpi_transforms with as_of={wanted} first"
        )
    status = quality_gate(wh)
    log.info("quality gate for packs: %s", status.reason)
    return {**status.to_dict(), "as_of_date": str(info["as_of_date"])[:10]}


def _parse_scope(raw: str | None) -> tuple[str | None, str | None]:
    """``""`` -> every audience; ``"region"`` -> every region audience; ``"region:EMEA"`` -> one slice."""
    from salesops.packs.config import SCOPES

    if not raw:
        return None, None
    scope_type, _, value = str(raw).partition(":")
    if scope_type not in SCOPES:
        raise PackPlanError(
            f"scope {raw!r}: type must be one of {list(SCOPES)} (e.g. 'region:EMEA', 'team', 'all')"
        )
    return scope_type, (value or None)


def _to_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def plan(params: dict[str, Any], gate_status: dict[str, Any], warehouse_conn_id: str) -> list[dict[str, Any]]:
    """The pack x scope jobs of this run: the requested packs (default: those due for the as-of date)
    for every audience scope value (or the requested scope)."""
    from salesops.packs.config import load_packs

    wh = _warehouse(warehouse_conn_id)
    packs = load_packs()
    requested = [p for p in (params.get("packs") or []) if p]
    unknown = [p for p in requested if p not in packs]
    if unknown:
        raise PackPlanError(f"unknown pack(s) {unknown}; packs.yaml defines {sorted(packs)}")
    as_of = date.fromisoformat(gate_status["as_of_date"])
    if requested:
        names = requested
    else:
        month_end = wh.query_file("packs/month_end.sql", {"as_of_date": as_of})["month_end"].iloc[0]
        ctx = wh.query_file("packs/context.sql").iloc[0]
        q_end = ctx["current_fiscal_quarter_end"]
        names = [
            n
            for n, spec in packs.items()
            if spec.schedule.is_due(as_of, _to_date(month_end), _to_date(q_end))
        ]
    scope_type, scope_value = _parse_scope(params.get("scope"))
    jobs = []
    for name in names:
        spec = packs[name]
        for aud in spec.audiences:
            if scope_type and aud.scope != scope_type:
                continue
            values = (
                list(aud.values)
                if aud.values is not None
                else [
                    str(v)
                    for v in wh.query_file(
                        "packs/scope_values.sql",
                        column={"region": "region", "team": "team", "owner": "id"}[aud.scope],
                    )["scope_value"]
                ]
            )
            if scope_value:
                values = [v for v in values if v == scope_value] or (
                    [scope_value] if aud.scope != "all" else values
                )
            jobs += [{"pack": name, "scope_type": aud.scope, "scope_value": v} for v in values]
    log.info("pack jobs: %d (%s)", len(jobs), sorted({j["pack"] for j in jobs}))
    return jobs


def render(job: dict[str, Any], warehouse_conn_id: str) -> dict[str, Any]:
    """Render one pack slice; returns the RenderedPack as a dict."""
    return start_render(job, warehouse_conn_id).result().to_dict()


def start_render(job: dict[str, Any], warehouse_conn_id: str) -> PendingPack:
    """Render one pack slice, its PDF and XLSX/CSV files still being laid out (``.result()`` waits
    for them and returns the RenderedPack)."""
    from salesops.packs.render import start_render_pack

    return start_render_pack(
        _warehouse(warehouse_conn_id), job["pack"], job["scope_type"], job["scope_value"]
    )


def check(rendered: dict[str, Any], gate_status: dict[str, Any], warehouse_conn_id: str) -> dict[str, Any]:
    """The pack's own checks; returns the rendered pack, the gate and the check result together."""
    from salesops.packs.checks import check_pack
    from salesops.packs.connection import kept_open
    from salesops.packs.render import RenderedPack

    wh = _warehouse(warehouse_conn_id)
    with kept_open(wh):
        result = check_pack(wh, RenderedPack.from_dict(rendered))
    if not result.passed:
        log.warning(
            "pack %s %s=%s failed its checks: %s",
            rendered["pack"],
            rendered["scope_type"],
            rendered["scope_value"],
            result.failures,
        )
    return {"rendered": rendered, "gate": gate_status, "checks": result.to_dict()}


def deliver(
    checked: dict[str, Any], params: dict[str, Any], run_id: str | None, warehouse_conn_id: str
) -> dict[str, Any]:
    """Publish the slice on its channels, or hold it; returns the DeliveryResult as a dict."""
    from salesops.packs.checks import GateStatus, PackCheckResult
    from salesops.packs.connection import kept_open
    from salesops.packs.deliver import publish_or_hold
    from salesops.packs.render import RenderedPack

    gate_fields = {k: checked["gate"].get(k) for k in ("passed", "reason", "as_of", "quality_run_id")}
    wh = _warehouse(warehouse_conn_id)
    with kept_open(wh):  # the delivery log's reads and writes on one open database
        result = publish_or_hold(
            wh,
            RenderedPack.from_dict(checked["rendered"]),
            GateStatus(**gate_fields),
            PackCheckResult(**checked["checks"]),
            channels=[c for c in (params.get("channels") or []) if c] or None,
            deliver=bool(params.get("deliver", True)),
            run_id=run_id,
        )
    return result.to_dict()


def summarize(results: list[dict[str, Any]], warehouse_conn_id: str) -> dict[str, Any]:
    """Counts of this run and the on-time-delivery KPI from the delivery log."""
    from salesops.packs.deliver import on_time_delivery

    results = list(results)
    out = {
        "slices": len(results),
        "published": sum(1 for r in results if r["published"]),
        "held": [
            f"{r['pack']} {r['scope_type']}={r['scope_value']}: {'; '.join(r['reasons'])}"
            for r in results
            if r["held"]
        ],
        "on_time_delivery": on_time_delivery(_warehouse(warehouse_conn_id)),
    }
    log.info(
        "report packs: %d slices, %d published, %d held", out["slices"], out["published"], len(out["held"])
    )
    return out


def by_pack(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's slices grouped per pack, in plan order: one ``produce`` task per pack."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        groups.setdefault(job["pack"], []).append(job)
    return [{"pack": pack, "jobs": slices} for pack, slices in groups.items()]


class PackSlicesFailed(RuntimeError):
    """Some slices of a pack could not be produced (the others were delivered); names each one."""


# Slices of a pack rendered ahead of the one being checked and delivered: the layout processes
# write one slice's files while this process queries and charts the next (two slices' rows in
# memory at most).
_AHEAD = 1


def produce(
    group: dict[str, Any],
    gate_status: dict[str, Any],
    params: dict[str, Any],
    run_id: str | None,
    warehouse_conn_id: str,
) -> list[dict[str, Any]]:
    """Render, check and deliver (or hold) every slice of one pack in this one process.

    Under a scheduler, per-slice tasks spent most of their time starting up (issue 16: 5 min 20 s
    for the small demo's 31 slices as three mapped tasks per slice); one process per pack imports
    matplotlib/WeasyPrint/openpyxl once and keeps the warehouse connection. While the layout
    processes (packs.yaml ``layout_processes``) write a slice's PDF and XLSX/CSV files, this
    process renders the next slice; slices are checked and delivered in plan order. A slice that
    fails does not stop the others: they are delivered, then the task fails naming the failed
    slices (in plan order).

    Returns:
        the DeliveryResult dicts of the slices that were produced.
    """
    from collections import deque

    results: list[dict[str, Any]] = []
    failed: dict[int, str] = {}
    pending: deque[tuple[int, str, PendingPack]] = deque()

    def finish(i: int, label: str, started: PendingPack) -> None:
        try:
            rendered = started.result().to_dict()
            checked = check(rendered, gate_status, warehouse_conn_id)
            results.append(deliver(checked, params, run_id, warehouse_conn_id))
        except Exception as exc:  # one bad slice must not cost the others their delivery
            log.exception("pack slice %s failed", label)
            failed[i] = f"{label}: {type(exc).__name__}: {exc}"

    _PER_PACK[warehouse_conn_id] = None  # one connection look-up per pack (see _warehouse)
    try:
        for i, job in enumerate(group["jobs"]):
            label = f"{job['pack']} {job['scope_type']}={job['scope_value']}"
            try:
                pending.append((i, label, start_render(job, warehouse_conn_id)))
            except Exception as exc:
                log.exception("pack slice %s failed", label)
                failed[i] = f"{label}: {type(exc).__name__}: {exc}"
            while len(pending) > _AHEAD:
                finish(*pending.popleft())
        while pending:
            finish(*pending.popleft())
    finally:
        if pending:  # interrupted (e.g. a task timeout): no file is left being written
            from concurrent.futures import wait

            jobs = [job for _i, _label, started in pending for _what, job in started.jobs]
            wait([job for job in jobs if not job.cancel()])
        _PER_PACK.pop(warehouse_conn_id, None)
    if failed:
        raise PackSlicesFailed(
            f"{len(failed)} of {len(group['jobs'])} slices failed: "
            + " | ".join(failed[i] for i in sorted(failed))
        )
    return results
