"""Out-of-UI approvals authenticate the approver as a person: the CLI logs in to Airflow with the
approver's own credentials and answers the plan's HITL request over REST (a pytest-httpserver
stands in for Airflow's API server and asserts the exact calls)."""

from __future__ import annotations

import json

import pytest
from tests.unit.test_bulk_update_support import make_env
from werkzeug import Response

from salesops.bulk_update.__main__ import main as cli
from salesops.bulk_update.plan import build_plan, load_plan
from salesops.bulk_update.render import approval_body, approval_subject

PASSWORDS = {"salesops-approver-1": "pw-1", "analyst-1": "pw-a"}


@pytest.fixture()
def airflow(crm_env, httpserver, monkeypatch):
    _, wh = crm_env
    p = build_plan(
        wh, "fix_forecast_category", requester="analyst-1", run_id="manual__1", dag_id="crm_bulk_update"
    )
    monkeypatch.setenv("SALESOPS_WAREHOUSE_URL", wh.url)
    monkeypatch.setenv("SALESOPS_AIRFLOW_URL", httpserver.url_for("/"))
    calls: list[tuple[str, str, dict]] = []
    assigned = {"salesops-approver-1", "salesops-approver-2"}  # the group minus the requester

    def token(request):
        body = request.get_json()
        calls.append(("token", body["username"], {}))
        if PASSWORDS.get(body["username"]) != body["password"]:
            return Response("bad credentials", status=401)
        return Response(json.dumps({"access_token": f"tok-{body['username']}"}), status=201)

    def user_of(request):
        return request.headers.get("Authorization", "").removeprefix("Bearer tok-")

    def listing(request):
        calls.append(("list", user_of(request), dict(request.args)))
        detail = {
            "task_instance": {
                "dag_id": "crm_bulk_update",
                "dag_run_id": "manual__9",
                "task_id": "ask_approval",
                "map_index": -1,
            },
            "subject": approval_subject(p),
            "body": approval_body(p),
            "response_received": False,
        }
        other = {**detail, "subject": "Approve bulk update BU-other", "body": "x"}
        return Response(json.dumps({"hitl_details": [other, detail], "total_entries": 2}), status=200)

    def patch(request):
        user = user_of(request)
        calls.append(("patch", user, request.get_json()))
        if user not in assigned:
            return Response("forbidden", status=403)
        return Response(
            json.dumps(
                {
                    "responded_by": {"id": user, "name": user},
                    "chosen_options": request.get_json()["chosen_options"],
                }
            ),
            status=200,
        )

    httpserver.expect_request("/auth/token", method="POST").respond_with_handler(token)
    httpserver.expect_request(
        "/api/v2/dags/crm_bulk_update/dagRuns/~/hitlDetails", method="GET"
    ).respond_with_handler(listing)
    httpserver.expect_request(
        "/api/v2/dags/crm_bulk_update/dagRuns/manual__9/taskInstances/ask_approval/-1/hitlDetails",
        method="PATCH",
    ).respond_with_handler(patch)
    return wh, p, calls, monkeypatch


@pytest.fixture()
def crm_env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def _as(monkeypatch, user):
    monkeypatch.setenv("SALESOPS_AIRFLOW_USER", user)
    monkeypatch.setenv("SALESOPS_AIRFLOW_PASSWORD", PASSWORDS.get(user, "wrong"))


def test_cli_approval_is_the_approvers_own_authenticated_rest_call(airflow, capsys):
    wh, p, calls, mp = airflow
    _as(mp, "salesops-approver-1")
    assert cli(["approve", "--plan-id", p.plan_id, "--hash", p.content_hash, "--comment", "checked"]) == 0
    assert calls == [
        ("token", "salesops-approver-1", {}),
        ("list", "salesops-approver-1", {"limit": "100", "response_received": "false"}),
        (
            "patch",
            "salesops-approver-1",
            {"chosen_options": ["Approve"], "params_input": {"comment": "checked"}},
        ),
    ]
    assert "as salesops-approver-1" in capsys.readouterr().out


def test_requester_cannot_approve_over_rest_and_typed_names_do_not_exist(airflow, capsys):
    """Issue 11 (2): the requester approved their own plan by typing another approver's name."""
    wh, p, calls, mp = airflow
    _as(mp, "analyst-1")
    with pytest.raises(SystemExit):  # there is no --approver option any more
        cli(
            ["approve", "--plan-id", p.plan_id, "--hash", p.content_hash, "--approver", "salesops-approver-1"]
        )
    assert cli(["approve", "--plan-id", p.plan_id, "--hash", p.content_hash]) == 1
    assert "refused 'analyst-1': not an assigned approver" in capsys.readouterr().err
    assert calls[-1][:2] == ("patch", "analyst-1")
    assert load_plan(wh, p.plan_id).status == "built"


def test_wrong_password_wrong_hash_and_expired_plan_send_no_answer(airflow, capsys):
    wh, p, calls, mp = airflow
    mp.setenv("SALESOPS_AIRFLOW_USER", "salesops-approver-1")
    mp.setenv("SALESOPS_AIRFLOW_PASSWORD", "guess")
    assert cli(["approve", "--plan-id", p.plan_id, "--hash", p.content_hash]) == 1
    assert "refused the login of 'salesops-approver-1'" in capsys.readouterr().err
    _as(mp, "salesops-approver-1")
    assert cli(["approve", "--plan-id", p.plan_id, "--hash", "0" * 64]) == 1
    assert "is not plan" in capsys.readouterr().err
    wh.execute(
        "update ops.bulk_update_plan set expires_at = cast('2000-01-01' as timestamp) where plan_id = :p",
        {"p": p.plan_id},
    )
    assert cli(["approve", "--plan-id", p.plan_id, "--hash", p.content_hash]) == 1
    assert "expired at 2000-01-01 00:00:00 UTC; approvals are refused" in capsys.readouterr().err
    assert [c[0] for c in calls if c[0] == "patch"] == []


def test_cli_revoke_is_authenticated_and_recorded(airflow, capsys):
    from salesops.bulk_update.approval import approvals

    wh, p, calls, mp = airflow
    _as(mp, "salesops-approver-1")
    assert cli(["revoke", "--plan-id", p.plan_id, "--comment", "hold"]) == 0
    assert [(a["decision"], a["approver"], a["channel"]) for a in approvals(wh, p.plan_id)] == [
        ("revoke", "salesops-approver-1", "cli")
    ]
    assert load_plan(wh, p.plan_id).status == "revoked"
    mp.setenv("SALESOPS_AIRFLOW_PASSWORD", "guess")
    assert cli(["revoke", "--plan-id", p.plan_id]) == 1
    assert len(approvals(wh, p.plan_id)) == 1
