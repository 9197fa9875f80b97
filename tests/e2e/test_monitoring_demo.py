"""Monitoring on the demo (issue 14): a clean demo raises no alert; each switchable incident is
detected by the first monitoring run that can see it, with evidence, and nothing else fires.

Two warehouses, both the small demo (seed 42): the session's golden demo (clean) run through the
kpi_transforms DAG (whose detect_anomalies task scores every series), and one demo CRM seeded with
all three incidents (salesops_demo.incidents), loaded and built through the library, then scored.
False positives = anomalies that no incident's ground truth (incident_truth) explains.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.conftest import DemoEnv, use_dirs

pytestmark = pytest.mark.e2e

NOT_EVALUATED = re.compile(
    r"^not evaluated \((needs \d+ points, have \d+|no value for the period from .+)\)$"
)


@pytest.fixture(scope="module")
def clean(demo_env):
    from salesops.runner import run_dag

    dr = run_dag("kpi_transforms")
    return demo_env, dr


@pytest.fixture(scope="module")
def incidents(airflow_db, tmp_path_factory):
    """Seed + all three incidents + full load + KPI build + the first monitoring run."""
    from salesops.config import object_manifest
    from salesops.ingest.pipeline import extract_and_load
    from salesops.kpis.runner import build
    from salesops.monitoring.tasks import monitor
    from salesops_demo import DemoCrm
    from salesops_demo.incidents import ground_truth, inject

    root = tmp_path_factory.mktemp("incidents")
    env = DemoEnv(root / "data", root / "out")
    with use_dirs(env.data_dir, env.output_dir):
        crm = DemoCrm.seed(size="small", seed=42, path=env.data_dir / "demo_crm.duckdb")
        injected = {
            "routing_gap": inject(crm.path, "routing_gap", days=7, segment="SMB"),
            "lead_sync_drop": inject(crm.path, "lead_sync_drop", days=7),
            "commit_jump": inject(crm.path, "commit_jump"),
        }
        wh = env.warehouse
        extract_and_load(crm, list(object_manifest()), wh)
        build(wh)
        first = monitor(wh, "incident-run-1")
        yield env, crm, wh, injected, ground_truth(crm.path), first


def _explained(anomaly: dict, truth: list[dict]) -> list[str]:
    return [
        t["incident"]
        for t in truth
        if t["series"] == anomaly["series"]
        and t["scope_type"] == anomaly["scope_type"]
        and t["scope_value"] in ("*", anomaly["scope_value"])
    ]


def test_clean_demo_raises_no_alert(clean):
    env, dr = clean
    assert dr.state == "success"
    wh = env.warehouse
    outcomes = {
        r["outcome"]: r["n"]
        for r in wh.query("select outcome, count(*) as n from quality.anomaly_check group by 1")
    }
    false_positives = wh.query(
        "select series, scope_type, scope_value, value, expected, score from quality.anomaly"
    )
    assert false_positives == [], (
        f"{len(false_positives)} false positive(s) on the clean demo: {false_positives}"
    )
    assert outcomes.get("anomaly", 0) == 0
    assert outcomes["normal"] >= 50  # every series with history was scored
    series = {r["series"] for r in wh.query("select distinct series from quality.anomaly_check")}
    assert {"lead_volume", "unassigned_leads", "routing_sla_breaches", "commit_by_rep", "win_rate"} <= series
    reasons = [
        r["reason"]
        for r in wh.query("select reason from quality.anomaly_check where outcome = 'not_evaluated'")
    ]
    assert reasons and all(NOT_EVALUATED.match(r) for r in reasons), reasons
    # one full load: rows per sync has no incremental sync to train on yet - said, not alerted
    assert not (env.output_dir / "monitoring" / "tickets").exists()


def test_each_incident_is_detected_on_the_first_run_that_can_see_it(incidents):
    _, _, wh, injected, truth, first = incidents
    opened = wh.query("select * from quality.anomaly where status = 'open'")
    assert sorted(first["opened"]) == sorted(a["anomaly_id"] for a in opened)
    for t in (t for t in truth if t["required"]):
        hits = [
            a
            for a in opened
            if (a["series"], a["scope_type"], a["scope_value"])
            == (t["series"], t["scope_type"], t["scope_value"])
        ]
        assert hits, f"{t['incident']} not detected by {t['series']} {t['scope_type']}={t['scope_value']}"
        assert hits[0]["first_run_id"] == "incident-run-1" and hits[0]["severity"] == "critical"
    by_series = {(a["series"], a["scope_type"]): a for a in opened}
    assert by_series[("unassigned_leads", "all")]["direction"] == "spike"
    assert by_series[("lead_volume", "all")]["direction"] == "drop"
    assert by_series[("commit_by_rep", "owner")]["scope_value"] == injected["commit_jump"]["owner"]
    false_positives = [a for a in opened if not _explained(a, truth)]
    assert false_positives == [], f"{len(false_positives)} false positive(s): {false_positives}"
    assert injected["routing_gap"]["records"] > 0 and injected["lead_sync_drop"]["records"] > 0


def test_routing_gap_ticket_has_evidence_cause_and_a_query_that_reproduces(incidents):
    env, crm, wh, _, _, _ = incidents
    a = wh.query("select * from quality.anomaly where series = 'unassigned_leads' and scope_type = 'all'")[0]
    assert a["likely_cause"].startswith("Routing rule gap:") and "segment SMB" in a["likely_cause"]
    assert "file: written" in a["alert_log"] and "slack: skipped (no connection" in a["alert_log"]
    ticket = Path(a["ticket_path"])
    assert ticket.parent == env.output_dir / "monitoring" / "tickets"
    body = ticket.read_text(encoding="utf-8")
    # the example records are the leads the incident left unassigned (SMB, no owner in the CRM)
    examples = re.findall(r"^\| (00Q\w+) \| (\w+) \|", body, re.M)
    assert len(examples) == 10 and {seg for _, seg in examples} == {"SMB"}
    import duckdb

    con = duckdb.connect(str(crm.path), read_only=True)
    owners = dict(
        con.execute(
            f"""select Id, OwnerId from "Lead" where Id in ({", ".join(f"'{i}'" for i, _ in examples)})"""
        ).fetchall()
    )
    con.close()
    assert set(owners) == {i for i, _ in examples} and set(owners.values()) == {None}
    # the query in the ticket runs as written and gives the anomalous week's value
    sql = re.search(r"```sql\n(.*?)\n```", body, re.S).group(1)
    rows = wh.query(sql.rstrip(";"))
    week = [r for r in rows if str(r["day"]) >= str(a["last_period_start"])]
    assert sum(r["numerator"] for r in week) == a["value"] == 11


def test_alerts_deduplicate_across_runs(incidents):
    _, _, wh, _, _, first = incidents
    from salesops.monitoring.tasks import monitor

    before = wh.query("select anomaly_id, first_seen_at, alerted_at from quality.anomaly order by 1")
    second = monitor(wh, "incident-run-2")
    after = wh.query(
        "select anomaly_id, first_seen_at, alerted_at, last_run_id from quality.anomaly order by 1"
    )
    assert second["opened"] == [] and second["alerted"] == []
    assert sorted(second["continued"]) == sorted(first["opened"])
    assert [(r["anomaly_id"], r["first_seen_at"], r["alerted_at"]) for r in after] == [
        (r["anomaly_id"], r["first_seen_at"], r["alerted_at"]) for r in before
    ]
    assert {r["last_run_id"] for r in after} == {"incident-run-2"}


def test_packs_show_open_anomalies_for_their_scope(incidents):
    _, _, wh, injected, _, _ = incidents
    from salesops.packs.config import get_pack
    from salesops.packs.sections import BuildContext, build_open_anomalies

    rep = injected["commit_jump"]["owner"]
    region = wh.scalar("select region from staging.stg_crm__user where id = :i", {"i": rep})
    other = next(r for r in ("AMER", "EMEA", "APAC") if r != region)

    def listed(pack, scope_type, scope_value):
        sec = build_open_anomalies(BuildContext(wh, get_pack(pack), scope_type, scope_value, {}))
        return {(r["series"], r["scope_value"]) for r in sec.tables[0].rows}

    routing = listed("routing_sla", "all", "all")
    assert {("unassigned_leads", "all"), ("lead_volume", "all")} <= routing
    assert not any(s == "commit_by_rep" for s, _ in routing)
    assert listed("weekly_pipeline_inspection", "region", region) == {("commit_by_rep", rep)}
    assert listed("weekly_pipeline_inspection", "region", other) == set()


def test_anomalies_resolve_themselves_when_the_scope_is_normal_again(incidents):
    """The routing rule is fixed and the stranded leads are assigned (late): the next load brings the
    owners, so the unassigned-leads anomalies resolve while the SLA-breach one stays open (a late
    assignment is still a breach)."""
    _, _, wh, _, _, _ = incidents
    from salesops.kpis.runner import build
    from salesops.monitoring.tasks import monitor

    # what the next incremental load would bring from the CRM after the leads were re-routed
    wh.execute(
        "update staging.stg_crm__lead set owner_id = 'rerouted', assigned_at = created_at + interval 30 hour "
        "where owner_id is null and segment = 'SMB' and created_at >= timestamp '2026-10-26'"
    )
    build(wh)
    third = monitor(wh, "incident-run-3")
    status = {
        (r["series"], r["scope_type"], r["scope_value"]): r
        for r in wh.query(
            "select series, scope_type, scope_value, status, resolved_at, first_run_id from quality.anomaly"
        )
    }
    assert status[("unassigned_leads", "all", "all")]["status"] == "resolved"
    assert status[("unassigned_leads", "segment", "SMB")]["status"] == "resolved"
    assert status[("unassigned_leads", "all", "all")]["resolved_at"] is not None
    assert status[("routing_sla_breaches", "all", "all")]["status"] == "open"
    assert status[("lead_volume", "all", "all")]["status"] == "open"
    assert third["opened"] == [] and len(third["resolved"]) == 2
    assert len(status) == len(wh.query("select anomaly_id from quality.anomaly"))  # no copies


def test_alert_reaches_slack_and_email_when_their_connections_exist(incidents, smtp_sink, monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from salesops import policy
    from salesops.monitoring import alerts, store

    _, _, wh, injected, _, _ = incidents
    posts: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_DEFAULT",
        json.dumps(
            {
                "conn_type": "slackwebhook",
                "password": f"http://127.0.0.1:{server.server_port}/services/T0/B0/X",
            }
        ),
    )
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_sink.connection_json())
    pol = policy.monitoring()
    a = next(r for r in store.open_anomalies(wh) if r["series"] == "commit_by_rep")
    before = len(smtp_sink.received())
    try:
        path, cause, body = alerts.draft(wh, a, pol)
        outcome = alerts.send(a, alerts.alert_text(a, cause, path), body, path, pol)
    finally:
        server.shutdown()
    assert outcome == [f"file: written {path.name}", "slack: sent", "email: sent"]
    text = posts[0]["text"]
    rep = injected["commit_jump"]["owner"]
    assert text.startswith(
        f"*[critical] Forecast Commit amount per rep at each week's end (week over week)*: spike for owner {rep}"
    )
    assert "value $3,175,200, expected $1,577,000" in text and "2 opportunities" in text
    mail = smtp_sink.received()[before:]
    assert len(mail) == 1 and mail[0].rcpt_tos == pol.alerts.email_to
    assert mail[0].subject == f"[critical] {a['anomaly_id']}"
