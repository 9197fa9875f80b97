"""The quality gate: a failed blocker check stops downstream publishing.

A blocker check fails when its failed rate at scope "all" exceeds its target
(quality.yaml). The gate names each failing blocker with its count, rate and a sample of record
ids; warn-level failures are listed but never block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from salesops.quality import _db
from salesops.warehouse.core import Warehouse

SAMPLE_SIZE = 5
VALUE_ROWS = 10000  # exception rows read to group a blocker's failures by wrong value


class QualityGateFailed(RuntimeError):
    """A blocker check failed; the message names the check, the count and sample record ids."""


@dataclass
class GateResult:
    passed: bool
    message: str
    blockers: list[dict[str, Any]] = field(default_factory=list)
    warns: list[dict[str, Any]] = field(default_factory=list)


def _describe(f: dict[str, Any]) -> str:
    rate = f"{f['rate'] * 100:.2f}%" if f.get("rate") is not None else "n/a"
    text = (
        f"{f['check_id']} ({f['object']}): {f['failed']} of {f['evaluated']} failed ({rate} > target "
        f"{f['target'] * 100:.2f}%)"
    )
    if f.get("sample_ids"):
        text += f"; sample ids: {', '.join(f['sample_ids'])}"
    if f.get("values"):
        text += "; values: " + ", ".join(
            f"{v['value']} ({v['count']}: {', '.join(v['sample_ids'])})" for v in f["values"]
        )
    return text


def _values(wh: Warehouse, run_id: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    """Each wrong value a blocker found (its exception detail: an unknown stage, an unresolved
    owner as exported), with its count and sample record ids."""
    rows = _db.fetch_df(
        wh,
        "quality/gate_values.sql",
        {"run_id": run_id, "check_id": item["check_id"], "object": item["object"]},
        limit=VALUE_ROWS,
    )
    out: dict[str, dict[str, Any]] = {}
    for detail, record_id in zip(rows["detail"], rows["record_id"], strict=True):
        if not detail:
            continue
        v = out.setdefault(str(detail), {"value": str(detail), "count": 0, "sample_ids": []})
        v["count"] += 1
        if len(v["sample_ids"]) < SAMPLE_SIZE:
            v["sample_ids"].append(str(record_id))
    return sorted(out.values(), key=lambda v: (-v["count"], v["value"]))


def evaluate_gate(wh: Warehouse, run_id: str) -> GateResult:
    """Read one run's results and decide the gate (no side effects)."""
    failures = _db.fetch_df(wh, "quality/gate_failures.sql", {"run_id": run_id})
    blockers, warns = [], []
    for row in failures.to_dict("records"):
        item = {k: (None if v != v else v) for k, v in row.items()}  # NaN -> None
        item["evaluated"], item["failed"] = int(item["evaluated"]), int(item["failed"])
        samples = _db.fetch_df(
            wh,
            "quality/gate_samples.sql",
            {"run_id": run_id, "check_id": item["check_id"], "object": item["object"]},
            limit=SAMPLE_SIZE,
        )
        item["sample_ids"] = [str(x) for x in samples["record_id"]]
        if item["severity"] == "blocker":
            item["values"] = _values(wh, run_id, item)
        (blockers if item["severity"] == "blocker" else warns).append(item)
    if blockers:
        message = "quality gate FAILED - blocker checks: " + " | ".join(_describe(b) for b in blockers)
    else:
        message = f"quality gate passed ({len(warns)} warn-level checks failing)"
    if warns:
        message += " ; warns: " + ", ".join(f"{w['check_id']}={w['failed']}" for w in warns)
    return GateResult(passed=not blockers, message=message, blockers=blockers, warns=warns)


def enforce_gate(wh: Warehouse, run_id: str) -> GateResult:
    """Evaluate the gate, record the verdict on quality.run, raise :class:`QualityGateFailed` if blocked."""
    result = evaluate_gate(wh, run_id)
    wh.execute(
        "update quality.run set status = :s, gate_passed = :p, gate_message = :m where run_id = :r",
        {
            "s": "gate_passed" if result.passed else "gate_failed",
            "p": result.passed,
            "m": result.message,
            "r": run_id,
        },
    )
    if not result.passed:
        raise QualityGateFailed(result.message)
    return result
