"""Airflow plugin: the RevOps console inside the Airflow UI, and the bulk-update run-outcome note.

Thin on purpose (Airflow imports it in every component): the console's FastAPI app and the
listener live in the ``salesops.console`` package. The app is mounted at ``/revops`` on the API
server; ``external_views`` put its pages in the UI's Browse menu, rendered in an iframe (as
astronomer-cosmos serves dbt docs). Airflow does not authenticate plugin apps: the app checks the
UI's JWT on every route itself (``salesops.console.app``).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from salesops.console import run_notes
from salesops.console.app import create_app

_PAGES = [
    ("Pack archive", "packs"),
    ("Data-quality scorecard", "scorecard"),
    ("Exception queue", "exceptions"),
    ("Bulk-update plans", "plans"),
    ("Metric glossary", "glossary"),
]


class RevOpsConsolePlugin(AirflowPlugin):
    name = "revops_console"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/revops", "name": "RevOps console"}]
    external_views = [
        {
            "name": f"RevOps: {title}",
            "href": f"revops/{page}",
            "url_route": f"revops-{page}",
            "destination": "nav",
            "category": "browse",
        }
        for title, page in _PAGES
    ]
    listeners = [run_notes]
