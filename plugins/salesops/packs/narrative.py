"""The "what changed since last week" narrative: deterministic, templated sentences from the facts
the sections computed (snapshots, movement, risk, coverage). Same data -> same words.
"""

from __future__ import annotations

from typing import Any

from salesops.packs.model import Section, fmt

# How a movement category reads in a sentence ("driven by 3 deals pushed to a later quarter").
DRIVER_PHRASES = {
    "pushed": "pushed to a later quarter",
    "slipped": "slipped to a later quarter after the cutoff day",
    "moved_out_other": "moved out of the quarter",
    "won": "won (closed out of the open pipeline)",
    "lost": "lost",
    "removed": "deleted in the CRM",
    "amount_down": "with lower amounts",
    "new": "created this week",
    "reopened": "reopened",
    "pulled_in": "pulled in from a later quarter",
    "pushed_in": "moved in from an earlier quarter",
    "amount_up": "with higher amounts",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def movement_sentence(scope_label: str, facts: dict[str, Any], currency: str = "$") -> str | None:
    """``"EMEA FY2027-Q4 pipeline down 8 % WoW ($9.1M -> $8.4M), driven by 3 deals pushed to a later quarter ($0.7M)."``"""
    if not facts or facts.get("start") is None:
        return None
    start, end, change, pct = (
        float(facts["start"] or 0),
        float(facts["end"] or 0),
        float(facts["change"] or 0),
        facts["pct"],
    )
    direction = "up" if change > 0 else "down" if change < 0 else "flat"
    size = "" if pct is None or direction == "flat" else f" {abs(pct) * 100:.0f} %"
    text = (
        f"{scope_label} {facts.get('window', '')} pipeline {direction}{size} week over week "
        f"({fmt(start, 'currency', currency)} to {fmt(end, 'currency', currency)})"
    )
    flows = {k: v for k, v in (facts.get("flows") or {}).items() if v[0]}
    if change and flows:
        # The driver is the largest flow in the direction of the change; ties broken by name.
        same_way = [
            (k, n, float(a or 0)) for k, (n, a) in flows.items() if (float(a or 0) > 0) == (change > 0) and a
        ]
        if same_way:
            key, n, amount = sorted(same_way, key=lambda t: (-abs(t[2]), t[0]))[0]
            text += (
                f", driven by {_plural(int(n), 'deal')} {DRIVER_PHRASES.get(key, key)} "
                f"({fmt(abs(amount), 'currency', currency)})"
            )
    return text + "."


def build(pack: str, scope_label: str, sections: list[Section], currency: str = "$") -> list[str]:
    """The narrative lines of one rendered pack, in a fixed order."""
    facts = {s.id: s.facts for s in sections}
    lines: list[str] = []
    # history the data does not have: say so instead of "flat" or "unchanged"
    for s in sections:
        if s.unavailable:
            lines.append(f"{s.title}: {s.unavailable}.")
    if "movement" in facts:
        line = movement_sentence(scope_label, facts["movement"], currency)
        if line:
            lines.append(line)
    for sid in ("coverage", "next_quarter_coverage"):
        f = facts.get(sid)
        if f and f.get("coverage") is not None:
            verdict = (
                ""
                if f.get("coverage_target") is None
                else (" - on target" if f["coverage"] >= f["coverage_target"] else " - below target")
            )
            target = (
                "" if f.get("coverage_target") is None else f" against a {f['coverage_target']:g}x target"
            )
            lines.append(f"{f['quarter']} coverage is {f['coverage']:.2f}x{target}{verdict}.")
    f = facts.get("at_risk_deals")
    if f and f.get("at_risk_count") is not None:
        share = (
            "" if f.get("at_risk_share") is None else f", {f['at_risk_share'] * 100:.0f} % of open pipeline"
        )
        lines.append(
            f"{_plural(int(f['at_risk_count']), 'open deal')} "
            f"({fmt(f['at_risk_amount'], 'currency', currency)}{share}) "
            f"{'is' if int(f['at_risk_count']) == 1 else 'are'} at risk."
        )
    f = facts.get("forecast_changes")
    if f and "commit_change" in f:
        parts = []
        for key, label in (("commit", "Commit"), ("best_case", "Best Case")):
            ch = float(f.get(f"{key}_change") or 0)
            word = "up" if ch > 0 else "down" if ch < 0 else "unchanged"
            parts.append(
                f"open {label} {word}" + ("" if not ch else f" {fmt(abs(ch), 'currency', currency)}")
            )
        lines.append(f"{scope_label}: " + ", ".join(parts) + " week over week.")
    f = facts.get("dq_scorecard")
    if f is not None and "missed" in f:
        missed = f["missed"]
        lines.append(
            "Every scorecard metric is on target."
            if not missed
            else "Below target: " + ", ".join(m.replace("_", " ") for m in missed) + "."
        )
    f = facts.get("dq_exceptions_by_owner")
    if f:
        lines.append(
            f"{_plural(int(f['open_exceptions']), 'open exception')} in the queue for {scope_label}."
        )
    f = facts.get("routing_sla")
    if f and f.get("rate") is not None:
        target = "" if f.get("target") is None else f" against a {f['target'] * 100:.0f} % target"
        lines.append(f"Routing SLA compliance is {f['rate'] * 100:.1f} %{target} ({f.get('window', '')}).")
    f = facts.get("slippage")
    if f and "pushed_count" in f:
        lines.append(
            f"{_plural(int(f['pushed_count']), 'deal')} ({fmt(f['pushed_amount'], 'currency', currency)}) "
            "pushed or slipped out of the quarter since it started."
        )
    return lines
