"""Alerts with evidence: a ticket draft per anomaly at or above the alert severity, sent once.

The draft (``<output_dir>/monitoring/tickets/<anomaly_id>.md``) states the impact, example records
(e.g. the unassigned leads of the spike), the SQL to reproduce, and a likely cause where a rule can
tell: unassigned or SLA-breaching leads concentrated in one segment x region = a routing rule gap;
a lead-volume or sync drop = the integration; a Commit jump = the deals that moved into Commit.
Slack (``SALESOPS_SLACK_CONN_ID``) and e-mail (``SALESOPS_SMTP_CONN_ID``, monitoring.yaml
``alerts.email_to``) go out when their connection exists; each outcome is logged on the anomaly.
An anomaly is alerted once (again only if it escalates to a higher severity).
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from salesops import paths, policy, sql
from salesops.monitoring import store
from salesops.monitoring.series import bind, series_path

if TYPE_CHECKING:
    from salesops.policy.models.monitoring import MonitoringPolicy
    from salesops.warehouse.core import Warehouse

log = logging.getLogger(__name__)
_EXAMPLES = {"unassigned_leads", "routing_sla_breaches", "lead_volume", "sync_rows", "commit_by_rep"}


def tickets_dir() -> Path:
    return paths.output_dir() / "monitoring" / "tickets"


def _literal(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def inline(text: str, params: dict[str, Any]) -> str:
    """SQL with its bind parameters written in, for a person to paste into a SQL client."""
    for k, v in params.items():
        lit = f"date {_literal(v.isoformat())}" if isinstance(v, date) else _literal(v)
        text = re.sub(rf"(?<![:\w]):{k}\b", lit, text)
    return text.strip()


def fmt(value: Any, unit: str | None) -> str:
    if value is None:
        return "n/a"
    v = float(value)
    if abs(v) >= 1e300:
        return "inf" if v > 0 else "-inf"
    if unit == "rate":
        return f"{v:.1%}"
    if unit == "amount":
        return f"${v:,.0f}"
    return f"{v:,.1f}" if v != int(v) else f"{int(v):,}"


def evidence_params(a: dict[str, Any], pol: MonitoringPolicy) -> dict[str, Any]:
    spec = pol.series[a["series"]]
    knobs = pol.resolved(a["series"])
    start = a["last_period_start"]
    step = 1 if a["grain"] == "day" else 7
    end = start + timedelta(days=step) if a["grain"] != "sync" else start + timedelta(days=1)
    training_days = step * knobs.training_periods
    return {
        "period_start": start,
        "period_end": end,
        "scope_type": a["scope_type"],
        "scope_value": a["scope_value"],
        "training_start": start - timedelta(days=training_days),
        "training_days": training_days,
        "aggregate": spec.aggregate,
    }


def concentration_cause(rows: list[dict[str, Any]], share_needed: float) -> str | None:
    """Routing rule gap when one segment x region (else one segment, else one region) holds the share."""
    total = sum(int(r["leads"]) for r in rows)
    if not total:
        return None
    check = "Check the assignment rule for {what} and the active users of its queue against include/config/territories.yaml."
    levels: list[tuple[str, Any]] = [
        ("segment x region", lambda r: (r["segment"], r["region"])),
        ("segment", lambda r: (r["segment"],)),
        ("region", lambda r: (r["region"],)),
    ]
    for level, key in levels:
        counts: dict[tuple[str, ...], int] = {}
        for r in rows:
            counts[key(r)] = counts.get(key(r), 0) + int(r["leads"])
        top, n = max(sorted(counts.items()), key=lambda kv: kv[1])
        if n / total >= share_needed:
            regions = sorted({str(r["region"]) for r in rows if key(r) == top})
            if level == "segment x region":
                what = f"segment {top[0]} x region {top[1]}"
            elif level == "segment":
                what = f"segment {top[0]} (every region: {', '.join(regions)})"
            else:
                what = f"region {top[0]}"
            return f"Routing rule gap: {n} of {total} leads ({n / total:.0%}) are {what}. " + check.format(
                what=what
            )
    return f"Spread over {len(rows)} segment x region cells (no cell, segment or region holds {share_needed:.0%}): not one routing rule."


def likely_cause(wh: Warehouse, a: dict[str, Any], pol: MonitoringPolicy, ev: dict[str, Any]) -> str | None:
    """The cause a rule can name, in a sentence (None when no rule applies or none fires)."""
    rule = pol.series[a["series"]].cause
    if rule == "concentration":
        rows = wh.query(sql.render("monitoring/concentration.sql", series=a["series"]), ev)
        return concentration_cause(rows, pol.causes.concentration_share)
    if rule == "sync_shortfall":
        what = a["scope_value"] if a["scope_type"] in ("object", "lead_source") else "lead"
        return (
            f"Integration shortfall: the {what} volume is {fmt(a['value'], a['unit'])} against "
            f"{fmt(a['expected'], a['unit'])} usually. Check the marketing automation -> CRM sync for that "
            "window (sync errors, filters, field mapping, API limits) and compare with the source's own counts."
        )
    if rule == "commit_movers":
        rows = wh.query(sql.render("monitoring/examples/commit_by_rep.sql"), ev)
        if rows:
            amount = sum(float(r["amount"] or 0) for r in rows)
            return (
                f"{len(rows)} opportunities of {a['scope_value']} moved into Commit during the week "
                f"({fmt(amount, 'amount')}): confirm the call with the rep and manager before the rollup."
            )
    return None


def draft(wh: Warehouse, a: dict[str, Any], pol: MonitoringPolicy) -> tuple[Path, str | None, str]:
    """Write the ticket draft of one anomaly; (path, likely cause, Markdown body)."""
    import jinja2

    spec = pol.series[a["series"]]
    knobs = pol.resolved(a["series"])
    ev = evidence_params(a, pol)
    as_of_date = a["last_seen_at"].date() if hasattr(a["last_seen_at"], "date") else a["last_seen_at"]
    params = bind(spec, knobs, as_of_date)
    series_sql = inline(sql.render(series_path(spec), dialect=wh.dialect), params)
    series_sql = (
        f"select * from (\n{series_sql}\n) s\nwhere scope_type = {_literal(a['scope_type'])} "
        f"and scope_value = {_literal(a['scope_value'])}\norder by day;"
    )
    examples: list[dict[str, Any]] = []
    examples_sql = None
    if spec.sql in _EXAMPLES:
        rel = f"monitoring/examples/{spec.sql}.sql"
        examples = wh.query(sql.render(rel, dialect=wh.dialect), ev)[: pol.alerts.max_examples]
        examples_sql = inline(sql.render(rel, dialect=wh.dialect), ev) + ";"
    cause = likely_cause(wh, a, pol, ev)
    scope = "overall" if a["scope_type"] == "all" else f"{a['scope_type']} {a['scope_value']}"
    value, expected = fmt(a["value"], a["unit"]), fmt(a["expected"], a["unit"])
    diff = (float(a["value"]) - float(a["expected"])) if a["expected"] is not None else None
    rel = f" ({diff / float(a['expected']):+.0%})" if diff is not None and a["expected"] else ""
    period_end = ev["period_end"] - timedelta(days=1)
    t = {
        **a,
        "title": f"{spec.description}: {a['direction']} for {scope}",
        "scope": scope,
        "period": a["last_period_start"].isoformat()
        + ("" if a["grain"] in ("day", "sync") else f" to {period_end.isoformat()}"),
        "value": value,
        "expected": expected,
        "band": f"{fmt(a['lower_bound'], a['unit'])} to {fmt(a['upper_bound'], a['unit'])}",
        "score": fmt(a["score"], None) if a["score"] is not None else "n/a",
        "impact": f"{value} against {expected} expected{rel}, outside the band of {knobs.sigma:g} standard "
        f"deviations of the previous {knobs.training_periods} {a['grain']} periods; scope {scope}.",
        "cause": cause,
        "examples": examples,
        "example_columns": list(examples[0]) if examples else [],
        "series_sql": Markup(series_sql),
        "examples_sql": Markup(examples_sql) if examples_sql else None,
        "aggregate": spec.aggregate,
        "knobs": ", ".join(f"{k}={v}" for k, v in knobs.model_dump().items()),
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    body = env.get_template("monitoring/ticket.md.j2").render(t=t)
    path = tickets_dir() / f"{a['anomaly_id']}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path, cause, body


def alert_text(a: dict[str, Any], cause: str | None, path: Path) -> str:
    scope = "overall" if a["scope_type"] == "all" else f"{a['scope_type']} {a['scope_value']}"
    lines = [
        f"*[{a['severity']}] {a['description']}*: {a['direction']} for {scope}, period "
        f"{a['last_period_start']} ({a['grain']})",
        f"- value {fmt(a['value'], a['unit'])}, expected {fmt(a['expected'], a['unit'])} "
        f"(band {fmt(a['lower_bound'], a['unit'])} to {fmt(a['upper_bound'], a['unit'])}), "
        f"z {fmt(a['score'], None)}",
    ]
    if cause:
        lines.append(f"- likely cause: {cause}")
    lines.append(f"- ticket draft: {path}")
    return "\n".join(lines)


def send(a: dict[str, Any], text: str, body: str, path: Path, pol: MonitoringPolicy) -> list[str]:
    from salesops.packs.deliver import connection_exists, send_email, slack_conn_id, smtp_conn_id

    outcome = []
    for channel in pol.alerts.channels:
        if channel == "file":
            outcome.append(f"file: written {path.name}")
        elif channel == "slack":
            conn = slack_conn_id()
            if not connection_exists(conn):
                outcome.append(f"slack: skipped (no connection {conn!r})")
                continue
            try:
                from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

                SlackWebhookHook(slack_webhook_conn_id=conn).send(text=text)
                outcome.append("slack: sent")
            except Exception as exc:  # an alert channel failing must not hide the others
                outcome.append(f"slack: failed ({type(exc).__name__}: {exc})")
        elif channel == "email":
            conn = smtp_conn_id()
            if not pol.alerts.email_to:
                outcome.append("email: skipped (alerts.email_to is empty)")
            elif not connection_exists(conn):
                outcome.append(f"email: skipped (no connection {conn!r})")
            else:
                try:
                    from markupsafe import escape

                    html = f"<pre>{escape(body)}</pre>"
                    send_email(pol.alerts.email_to, f"[{a['severity']}] {a['anomaly_id']}", html, [str(path)])
                    outcome.append("email: sent")
                except Exception as exc:
                    outcome.append(f"email: failed ({type(exc).__name__}: {exc})")
    return outcome


def alert_open(wh: Warehouse, pol: MonitoringPolicy | None = None) -> list[dict[str, Any]]:
    """Draft and send alerts for open anomalies at or above the alert severity not yet alerted."""
    pol = pol or policy.monitoring()
    floor = store.SEVERITY_RANK[pol.alerts.min_severity]
    sent = []
    for a in store.open_anomalies(wh):
        if a["alerted_at"] is not None or store.SEVERITY_RANK[a["severity"]] < floor:
            continue
        if a["series"] not in pol.series:
            continue
        path, cause, body = draft(wh, a, pol)
        outcome = send(a, alert_text(a, cause, path), body, path, pol)
        store.set_alert(wh, a["anomaly_id"], str(path), cause, "; ".join(outcome))
        log.warning("anomaly %s alerted: %s", a["anomaly_id"], alert_text(a, cause, path))
        sent.append({"anomaly_id": a["anomaly_id"], "path": str(path), "cause": cause, "channels": outcome})
    return sent
