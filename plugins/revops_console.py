"""Airflow plugin: the RevOps console inside the Airflow UI, and the bulk-update run-outcome note.

Thin on purpose (Airflow imports it in every component): the console's FastAPI app and the
listener live in the ``salesops.console`` package.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from salesops.console import run_notes


class RevOpsConsolePlugin(AirflowPlugin):
    name = "revops_console"
    listeners = [run_notes]
