"""The RevOps console (FastAPI app of the Airflow plugin): authentication on every route, the packs'
scoping, escaping of CRM text, CSV download, plan pages with decisions and the change log."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from tests.unit.test_bulk_update_support import approve, make_env

from salesops.console import app as console

ROUTES = ["/", "/packs", "/scorecard", "/exceptions", "/exceptions.csv", "/plans", "/glossary", "/anomalies"]
TOKENS = {"tok-admin": "admin", "tok-emea": "manager-emea-mm", "tok-nobody": "someone-else"}


async def _validate(token: str) -> str:
    if token not in TOKENS:
        raise ValueError("bad signature")
    return TOKENS[token]


def _exception(check, record, owner, team, region, detail=""):
    return (
        "insert into quality.exception_queue (check_id, object, record_id, detail, related_id, owner_id,"
        " manager_id, team, region, segment, severity, status, first_seen, last_seen, first_run_id,"
        " last_run_id, resolved_at, resolved_run_id) values "
        f"('{check}', 'opportunity', '{record}', '{detail}', null, '{owner}', null, '{team}', '{region}', 'SMB',"
        " 'warn', 'open', timestamp '2026-11-01', timestamp '2026-11-02', 'r1', 'r2', null, null)"
    )


@pytest.fixture()
def env(tmp_path, monkeypatch):
    crm, wh = make_env(tmp_path, monkeypatch)
    monkeypatch.setenv("SALESOPS_CONSOLE_BASE_URL", "")
    wh.run_file("quality/create_tables.sql")
    wh.execute("insert into quality.run (run_id, as_of) values ('r2', timestamp '2026-11-05')")
    wh.execute(_exception("opp_stale", "O010", "u1", "AMER-SMB", "AMER"))
    wh.execute(_exception("opp_stale", "O011", "u4", "EMEA-MM", "EMEA", "<script>alert(1)</script>"))
    wh.execute(_exception("opp_missing_next_step", "O012", "u4", "EMEA-MM", "EMEA", "=HYPERLINK(1)"))
    monkeypatch.setattr(console, "_warehouse", lambda: wh)
    monkeypatch.setattr(
        console, "_scope_values", lambda scope: {"team": ["AMER-SMB", "EMEA-MM"]}.get(scope, [])
    )
    return crm, wh


@pytest.fixture()
def client():
    return TestClient(console.create_app(_validate))


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_requires_an_authenticated_airflow_user(env, client, route):
    assert client.get(route).status_code == 401
    assert client.get(route, headers={"Authorization": "Bearer forged"}).status_code == 401
    r = client.get(route, cookies={"_token": "tok-admin"})
    assert r.status_code == 200, r.text
    assert r.headers["content-security-policy"] == "frame-ancestors 'self'"


def test_scope_follows_the_pack_recipients(env):
    assert console.scope_for("admin").sees_all
    assert console.scope_for("revops-demo") == console.Viewer("revops-demo", "all")
    assert console.scope_for("Leader-EMEA") == console.Viewer("Leader-EMEA", "region", "EMEA")
    assert console.scope_for("manager-emea-mm") == console.Viewer("manager-emea-mm", "team", "EMEA-MM")
    assert console.scope_for("someone-else").scope_type is None


def test_manager_sees_only_their_team_and_csv_is_scoped_filtered_and_neutralised(env, client):
    r = client.get("/exceptions", headers={"Authorization": "Bearer tok-emea"})
    assert r.status_code == 200
    assert "team EMEA-MM" in r.text and "O011" in r.text and "O010" not in r.text
    # CRM text is escaped
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    r = client.get(
        "/exceptions.csv?check=opp_missing_next_step", headers={"Authorization": "Bearer tok-emea"}
    )
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["record_id"], x["team"], x["detail"]) for x in rows] == [("O012", "EMEA-MM", "'=HYPERLINK(1)")]
    # the company-wide viewer filters by owner
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/exceptions.csv?owner=u1", cookies={"_token": "tok-admin"}).text)
        )
    )
    assert [x["record_id"] for x in rows] == ["O010"]
    # someone outside every audience is signed in but sees no CRM data
    r = client.get("/exceptions.csv", cookies={"_token": "tok-nobody"})
    assert list(csv.DictReader(io.StringIO(r.text))) == []


def test_plans_show_status_decisions_change_log_and_download(env, client):
    from salesops.bulk_update.apply import apply_plan
    from salesops.bulk_update.plan import build_plan, load_plan

    crm, wh = env
    p = build_plan(
        wh, "fix_forecast_category", requester="analyst-1", dag_id="crm_bulk_update", run_id="manual__1"
    )
    pending = build_plan(
        wh, "move_past_close_dates", requester="analyst-1", dag_id="crm_bulk_update", run_id="manual__2"
    )
    approve(wh, load_plan(wh, p.plan_id))
    apply_plan(wh, crm, p.plan_id, run_id="manual__1")
    admin = {"_token": "tok-admin"}
    r = client.get("/plans", cookies=admin)
    assert p.plan_id in r.text and "approve by salesops-approver-1: “looks right”" in r.text
    assert "/dags/crm_bulk_update/runs/manual__2/tasks/ask_approval/required_actions" in r.text
    assert pending.plan_id in r.text
    r = client.get(f"/plans/{p.plan_id}", cookies=admin)
    assert r.status_code == 200 and r.text.count("looks right") >= 4  # decision + one per change
    assert (
        "<td>O001</td><td>ForecastCategoryName</td><td>Commit</td><td>Pipeline</td><td>verified</td><td>salesops-approver-1</td><td>looks right</td>"
        in r.text
    )
    xlsx = client.get(f"/plans/{p.plan_id}/files/xlsx", cookies=admin)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    rows = list(csv.DictReader(io.StringIO(client.get(f"/plans/{p.plan_id}/files/csv", cookies=admin).text)))
    assert len(rows) == 6
    assert client.get("/plans/../../etc/files/csv", cookies=admin).status_code == 404
    assert client.get(f"/plans/{p.plan_id}/files/json", cookies=admin).status_code == 404
    # plans are the RevOps team's: a team manager may not read them
    assert client.get("/plans", cookies={"_token": "tok-emea"}).status_code == 403


def test_pack_archive_is_scoped(env, client, tmp_path):
    from salesops import paths

    root = paths.output_dir() / "packs" / "dq_scorecard" / "2026-W45"
    for scope in ("all-all", "team-EMEA-MM", "team-AMER-SMB"):
        (root / scope).mkdir(parents=True)
        (root / scope / f"dq_scorecard__{scope}.html").write_text(f"<p>{scope}</p>")
        (root / scope / f"dq_scorecard__{scope}.pdf").write_bytes(b"%PDF-1.7")
    mgr = {"_token": "tok-emea"}
    r = client.get("/packs", cookies=mgr)
    assert "team-EMEA-MM" in r.text and "team-AMER-SMB" not in r.text and "all-all" not in r.text
    f = client.get("/packs/dq_scorecard/2026-W45/team-EMEA-MM/dq_scorecard__team-EMEA-MM.pdf", cookies=mgr)
    assert f.status_code == 200 and f.content == b"%PDF-1.7"
    other = "/packs/dq_scorecard/2026-W45/team-AMER-SMB/dq_scorecard__team-AMER-SMB.pdf"
    assert client.get(other, cookies=mgr).status_code == 404
    assert client.get(other, cookies={"_token": "tok-admin"}).status_code == 200


def test_glossary_lists_every_registered_metric(env, client):
    from salesops.kpis.registry import load_registry

    r = client.get("/glossary", cookies={"_token": "tok-admin"})
    for name, m in load_registry().items():
        assert f'id="{name}"' in r.text and m.model in r.text
