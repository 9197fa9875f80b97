"""Links into the RevOps console (the Airflow UI plugin mounted at ``/revops``).

Light on purpose: task code (the approval body) imports it to print links, so it imports nothing
heavy and reads the base URL only when called.
"""

from __future__ import annotations

import os
from urllib.parse import quote

URL_PREFIX = "/revops"
BASE_URL_ENV = "SALESOPS_CONSOLE_BASE_URL"
PLAN_FILES = {"csv": "plan_rows.csv", "xlsx": "plan_rows.xlsx", "html": "plan.html"}


def base_url() -> str:
    """Where the Airflow UI is served, without a trailing slash ("" = a root-relative link).

    ``SALESOPS_CONSOLE_BASE_URL`` wins; else Airflow's ``[api] base_url``; else "" (links work
    from the UI's own origin, which is where the approver reads them).
    """
    value = os.getenv(BASE_URL_ENV)
    if value is None:
        try:
            from airflow.configuration import conf

            value = conf.get("api", "base_url", fallback="") or ""
        except Exception:  # outside Airflow
            value = ""
    return value.rstrip("/")


def console_url(path: str) -> str:
    """Absolute (or root-relative) URL of a console path such as ``plans/BU-1``."""
    return f"{base_url()}{URL_PREFIX}/{path.lstrip('/')}"


def plan_url(plan_id: str) -> str:
    return console_url(f"plans/{quote(plan_id, safe='')}")


def plan_file_url(plan_id: str, kind: str) -> str:
    """Download link of a plan's full file (``csv``, ``xlsx`` or ``html``) through the console."""
    if kind not in PLAN_FILES:
        raise ValueError(f"unknown plan file kind {kind!r}; expected one of {sorted(PLAN_FILES)}")
    return console_url(f"plans/{quote(plan_id, safe='')}/files/{kind}")


def required_actions_url(dag_id: str, run_id: str, task_id: str) -> str:
    """The Airflow UI page where a pending approval is answered."""
    return (
        f"{base_url()}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
        f"/tasks/{quote(task_id, safe='')}/required_actions"
    )
