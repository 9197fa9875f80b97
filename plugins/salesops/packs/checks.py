"""The publish gate of a pack: the quality gate for the data's as-of time, then the pack's own checks.

A pack is published only when

1. the latest quality run for this as-of has no failed blocker check (``quality_gate``), and
2. its own checks pass (``check_pack``):
   - totals: every number the pack lists in its checks, read back from the rendered XLSX summary,
     equals the total recomputed from the warehouse (include/sql/packs/checks/*.sql);
   - non-empty: a section whose scope has data (include/sql/packs/scope_probe.sql) has rows;
   - not without data: no section is built on an object the source has no records of at all
     (a leads-only export has no opportunities: its pipeline sections would print $0);
   - fresh: the latest successful load finished within packs.yaml freshness_hours of now (loader
     clock), and the KPI marts are built for that load's as-of time.

Otherwise the pack is held (see deliver.py) with every reason recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from salesops.packs.config import get_pack
from salesops.packs.model import plain

if TYPE_CHECKING:
    from salesops.packs.render import RenderedPack
    from salesops.warehouse.core import Warehouse


@dataclass
class GateStatus:
    """The quality gate as the packs see it (JSON-friendly)."""

    passed: bool
    reason: str
    as_of: str | None
    quality_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PackCheckResult:
    passed: bool
    failures: list[str] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)  # key, pack_value, warehouse_value, ok

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _naive_utc(value: Any) -> datetime | None:
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def load_as_of(wh: Warehouse) -> datetime | None:
    """The data's extraction time, naive UTC (:func:`salesops.as_of.data_as_of`)."""
    from salesops.as_of import data_as_of, naive_utc

    return naive_utc(data_as_of(wh))


def quality_gate(wh: Warehouse, as_of: datetime | None = None) -> GateStatus:
    """Whether the latest quality run for the data's as-of time passed (no failed blocker).

    Args:
        wh: the warehouse.
        as_of: the data's as-of time (default: :func:`load_as_of`).
    """
    as_of = as_of or load_as_of(wh)
    if as_of is None:
        return GateStatus(False, "no successful load in ops.load_audit: nothing to report on", None)
    stamp = as_of.isoformat(sep=" ")
    if not wh.table_exists("quality.run"):
        return GateStatus(
            False, f"no quality run for data as of {stamp}: the quality job has never run", stamp
        )
    rows = wh.query_file("packs/quality_gate.sql", {"as_of": as_of}).to_dict("records")
    if not rows:
        return GateStatus(False, f"no quality run for data as of {stamp}: run crm_data_quality first", stamp)
    run = {k: plain(v) for k, v in rows[0].items()}
    if not run["results"]:
        return GateStatus(
            False,
            f"quality run {run['run_id']} for {stamp} has no check results (unfinished)",
            stamp,
            run["run_id"],
        )
    if run["blockers_failed"]:
        return GateStatus(
            False,
            f"quality gate failed for data as of {stamp} (run {run['run_id']}, "
            f"{run['blockers_failed']} blocker check(s) failed): {run.get('gate_message') or ''}",
            stamp,
            run["run_id"],
        )
    return GateStatus(
        True, f"quality gate passed for data as of {stamp} (run {run['run_id']})", stamp, run["run_id"]
    )


def summary_values(xlsx_path: str) -> dict[str, Any]:
    """``key -> value`` of the Summary sheet of a rendered pack (what the reader sees)."""
    from openpyxl import load_workbook

    wb = load_workbook(xlsx_path, read_only=True, data_only=True)
    try:
        ws = wb["Summary"]
        out: dict[str, Any] = {}
        in_table = False
        for row in ws.iter_rows(values_only=True):
            if row and row[0] == "key":
                in_table = True
                continue
            if in_table and row and row[0]:
                out[str(row[0])] = row[3]
        return out
    finally:
        wb.close()


# section probe -> (the company-wide probe that says the object has records at all, its API name)
_PROBE_SOURCE = {
    "opportunities": ("opportunities", "Opportunity"),
    "open_opportunities": ("opportunities", "Opportunity"),
    "leads": ("leads", "Lead"),
}


def _sections_without_data(wh: Warehouse, rendered: RenderedPack, probe: dict[str, int]) -> list[str]:
    """Sections whose probed object has no records loaded anywhere (not only outside this scope):
    their zeros are not figures, so the slice is held with the reason instead of published."""
    needed = {_PROBE_SOURCE[s["probe"]][0] for s in rendered.sections if s.get("probe") in _PROBE_SOURCE}
    # A scope's rows are a subset of the company's: where the slice's own probe found records,
    # the company has them too (the company-wide probe then need not run for every slice).
    if rendered.scope_type != "all" and any(probe.get(k, 0) == 0 for k in needed):
        company = {
            k: int(plain(v) or 0)
            for k, v in wh.query_file("packs/scope_probe.sql", {"scope_type": "all", "scope_value": "all"})
            .iloc[0]
            .items()
        }
    else:
        company = probe
    out = []
    for s in rendered.sections:
        source = _PROBE_SOURCE.get(s.get("probe") or "")
        if source and company.get(source[0], 0) == 0:
            out.append(
                f"section {s['id']}: no {source[1]} records loaded (the source has none, or does not "
                f"export {source[1]}): its figures would be zeros the data cannot support"
            )
    return out


def check_pack(wh: Warehouse, rendered: RenderedPack, now: datetime | None = None) -> PackCheckResult:
    """Run the pack's own checks on a rendered pack (see the module docstring)."""
    spec = get_pack(rendered.pack)
    result = PackCheckResult(True)
    now = _naive_utc(now or datetime.now(UTC))

    # totals: read back from the file the recipient gets
    xlsx = rendered.files.get("xlsx")
    shown = summary_values(xlsx) if xlsx else {}
    for chk in rendered.checks:
        key, expected, tol = chk["key"], float(chk["warehouse_value"]), float(chk.get("tolerance", 0.005))
        if not xlsx:
            result.failures.append(f"total {key}: no XLSX rendered to read the pack's value from")
            continue
        if key not in shown:
            result.failures.append(f"total {key}: not in the pack's summary sheet")
            continue
        value = plain(shown[key])
        ok = value is not None and abs(float(value) - expected) <= tol
        result.totals.append({"key": key, "pack_value": value, "warehouse_value": expected, "ok": ok})
        if not ok:
            result.failures.append(f"total {key}: pack shows {value}, warehouse total is {expected}")

    # non-empty sections where the scope has data
    probe = {
        k: int(plain(v) or 0)
        for k, v in wh.query_file(
            "packs/scope_probe.sql", {"scope_type": rendered.scope_type, "scope_value": rendered.scope_value}
        )
        .iloc[0]
        .items()
    }
    for s in rendered.sections:
        if (
            s.get("probe")
            and probe.get(s["probe"], 0) > 0
            and s["row_count"] == 0
            and not s.get("unavailable")
        ):
            result.failures.append(
                f"section {s['id']} is empty although the scope has {probe[s['probe']]} "
                f"{s['probe'].replace('_', ' ')}"
            )

    # nothing to report on: a section built on an object the source has no records of at all (a
    # leads-only export has no opportunities) would print $0 and 0 the data cannot support
    result.failures += _sections_without_data(wh, rendered, probe)

    # freshness
    ctx = rendered.context
    finished = _naive_utc(ctx.get("load_finished_at"))
    if finished is None:
        result.failures.append("freshness: no successful load recorded in ops.load_audit")
    else:
        age_h = (now - finished).total_seconds() / 3600.0
        if age_h > spec.freshness_hours:
            result.failures.append(
                f"freshness: the latest load finished {age_h:.1f} h ago (> {spec.freshness_hours:g} h)"
            )
    load_asof = _naive_utc(ctx.get("load_as_of"))
    marts_asof = str(ctx.get("as_of_date"))[:10]
    if load_asof is not None and load_asof.date().isoformat() != marts_asof:
        result.failures.append(
            f"freshness: KPI marts are as of {marts_asof} but the latest load is as of "
            f"{load_asof.isoformat(sep=' ')}: rebuild the marts"
        )
    result.passed = not result.failures
    return result
