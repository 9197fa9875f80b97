"""The console's anomalies page (issue 14): open anomalies of quality.anomaly in the viewer's scope."""

from __future__ import annotations

from tests.unit.test_console import client, env  # noqa: F401  (shared fixtures)

from salesops.monitoring import store


def _anomaly(aid, series, scope_type, scope_value, status="open", severity="critical", cause=None):
    return {
        "anomaly_id": aid, "series": series, "scope_type": scope_type, "scope_value": scope_value,
        "grain": "week", "description": f"{series} per week", "unit": "count",
        "period_start": "2026-10-26", "last_period_start": "2026-10-26", "value": 25.0, "expected": 1.5,
        "lower_bound": -1.5, "upper_bound": 4.5, "score": 23.5, "direction": "spike", "severity": severity,
        "status": status, "first_seen_at": "2026-11-02 06:00:00", "last_seen_at": "2026-11-02 06:00:00",
        "resolved_at": None, "first_run_id": "r1", "last_run_id": "r1", "likely_cause": cause,
        "ticket_path": None, "alerted_at": None, "alert_log": None,
    }  # fmt: skip


def _insert(wh, rows):
    import pandas as pd

    store.ensure_tables(wh)
    with wh.connect() as conn:
        wh.insert_arrow(conn, "quality.anomaly", store._arrow(pd.DataFrame(rows)))


def test_anomalies_page_lists_open_anomalies_in_the_viewers_scope(env, client):  # noqa: F811
    _, wh = env
    assert "monitoring has not run yet" in client.get("/anomalies", cookies={"_token": "tok-admin"}).text
    wh.execute(
        "insert into staging.stg_crm__user (id, name, team, region, _batch_id, _loaded_at) "
        "values ('u9', 'Rep Nine', 'EMEA-MM', 'EMEA', 'b1', timestamp '2026-11-02')"
    )
    _insert(
        wh,
        [
            _anomaly("AN-ALL", "unassigned_leads", "all", "all", cause="Routing rule gap: <b>SMB</b> x EMEA"),
            _anomaly("AN-U1", "commit_by_rep", "owner", "u1"),
            _anomaly("AN-U9", "commit_by_rep", "owner", "u9", severity="warn"),
            _anomaly("AN-OLD", "lead_volume", "all", "all", status="resolved"),
        ],
    )
    admin = client.get("/anomalies", cookies={"_token": "tok-admin"}).text
    assert "3 open anomalies" in admin
    assert all(a in admin for a in ("AN-ALL", "AN-U1", "AN-U9")) and "AN-OLD" not in admin
    assert "&lt;b&gt;SMB&lt;/b&gt;" in admin  # CRM-derived text is escaped
    mgr = client.get("/anomalies", headers={"Authorization": "Bearer tok-emea"}).text
    assert "2 open anomalies" in mgr
    assert "AN-ALL" in mgr and "AN-U9" in mgr and "Rep Nine" in mgr and "AN-U1" not in mgr
    nobody = client.get("/anomalies", cookies={"_token": "tok-nobody"}).text
    assert "No CRM data in your scope" in nobody and "AN-ALL" not in nobody
