"""Answer a plan's approval request through Airflow's REST API with the approver's own credentials.

The CLI (``python -m salesops.bulk_update approve|reject``) does what the Required Actions page
does: it logs in as the approver (``POST /auth/token``), finds the open HITL request of the plan
(``GET /api/v2/dags/{dag_id}/dagRuns/~/hitlDetails``; the request's subject names the plan id and
its body the full hash) and answers it (``PATCH .../hitlDetails``). Airflow records the
authenticated user as the responder, so the approver is a person Airflow authenticated, not a
typed name: Airflow refuses a user outside ``assigned_users`` (403), which never include the
requester. The approval task then applies the same four-eyes checks as for a click in the UI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from salesops.bulk_update.approval import ApprovalError, refuse_if_closed
from salesops.bulk_update.plan import Plan

log = logging.getLogger(__name__)

DAG_ID = "crm_bulk_update"
APPROVAL_TASK_ID = "ask_approval"
OPTIONS = {"approve": "Approve", "reject": "Reject"}


@dataclass(frozen=True)
class Answered:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    responded_by: str


def new_session() -> requests.Session:
    s = requests.Session()
    # Reads may be retried; the PATCH that records a decision is never retried by the HTTP layer
    # (a second PATCH would answer 409 at best and hide what happened to the first).
    retry = Retry(total=3, backoff_factor=0.5, status_forcelist=(502, 503, 504), allowed_methods={"GET"})
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    return s


def login(base_url: str, username: str, password: str, session: requests.Session) -> str:
    """A bearer token for ``username`` (Airflow's auth manager checks the password)."""
    r = session.post(
        f"{base_url}/auth/token", json={"username": username, "password": password}, timeout=(10, 30)
    )
    if r.status_code not in (200, 201):
        raise ApprovalError(
            f"Airflow refused the login of {username!r} ({r.status_code}): check user and password"
        )
    token = (r.json() or {}).get("access_token")
    if not token:
        raise ApprovalError("Airflow's /auth/token answered without an access_token")
    return str(token)


def find_request(
    base_url: str, token: str, plan: Plan, session: requests.Session, dag_id: str = DAG_ID
) -> dict[str, Any]:
    """The open approval request of ``plan`` (its subject names the plan id, its body the hash)."""
    r = session.get(
        f"{base_url}/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails",
        headers={"Authorization": f"Bearer {token}"},
        params={"limit": "100", "response_received": "false"},
        timeout=(10, 60),
    )
    if r.status_code != 200:
        raise ApprovalError(f"listing approval requests failed ({r.status_code}): {r.text[:300]}")
    open_for_plan = [
        d
        for d in (r.json() or {}).get("hitl_details", [])
        if not d.get("response_received")
        and plan.plan_id in (d.get("subject") or "")
        and plan.content_hash in (d.get("body") or "")
        and (d.get("task_instance") or {}).get("task_id") == APPROVAL_TASK_ID
    ]
    if not open_for_plan:
        raise ApprovalError(
            f"no open approval request for plan {plan.plan_id} (hash {plan.content_hash[:12]}) in DAG {dag_id}: "
            f"trigger {dag_id} with plan_id={plan.plan_id} and approval_channel=ui first"
        )
    return open_for_plan[0]


def answer(
    base_url: str,
    username: str,
    password: str,
    plan: Plan,
    *,
    plan_hash: str,
    decision: str,
    comment: str | None = None,
    session: requests.Session | None = None,
    dag_id: str = DAG_ID,
) -> Answered:
    """Log in as ``username`` and answer ``plan``'s approval request with ``decision``.

    Raises:
        ApprovalError: wrong hash, plan not awaiting approval or expired, login refused, no open
            request, or Airflow refused the answer (403: not an assigned approver, e.g. the
            requester; 409: already answered).
    """
    if decision not in OPTIONS:
        raise ApprovalError("decision must be approve or reject")
    if plan_hash != plan.content_hash:
        raise ApprovalError(
            f"hash {plan_hash} is not plan {plan.plan_id}'s hash {plan.content_hash}; review the current plan"
        )
    if decision == "approve":
        refuse_if_closed(plan)
    base_url = base_url.rstrip("/")
    session = session or new_session()
    token = login(base_url, username, password, session)
    req = find_request(base_url, token, plan, session, dag_id)
    ti = req["task_instance"]
    url = (
        f"{base_url}/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
        f"{ti['task_id']}/{ti.get('map_index', -1)}/hitlDetails"
    )
    r = session.patch(
        url,
        headers={"Authorization": f"Bearer {token}"},
        json={"chosen_options": [OPTIONS[decision]], "params_input": {"comment": comment or ""}},
        timeout=(10, 60),
    )
    if r.status_code == 403:
        raise ApprovalError(
            f"Airflow refused {username!r}: not an assigned approver of plan {plan.plan_id} "
            "(the requester never is; approvers come from bulk_updates.yaml)"
        )
    if r.status_code == 409:
        raise ApprovalError(f"plan {plan.plan_id}'s approval request was already answered")
    if r.status_code != 200:
        raise ApprovalError(f"Airflow refused the answer ({r.status_code}): {r.text[:300]}")
    by = ((r.json() or {}).get("responded_by") or {}).get("id") or username
    log.info("plan %s: %s sent as %s to %s", plan.plan_id, decision, by, ti["dag_run_id"])
    return Answered(ti["dag_id"], ti["dag_run_id"], ti["task_id"], int(ti.get("map_index", -1)), str(by))
