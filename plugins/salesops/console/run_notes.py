"""Listener: write a finished crm_bulk_update run's outcome into the run's note.

A task cannot set its own run's note in Airflow 3 (the Task SDK has no call for it), so the
``report_outcome`` task pushes its outcome to XCom (key ``run_outcome``) and this listener, which runs
in the scheduler when the run finishes, copies the text into the run note (the "Note" shown on the
run in the grid and the runs list). It uses the scheduler's own session and objects: no second
connection, no lock against the scheduler's transaction. Any error is logged, never raised: a note
must not break scheduling.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from airflow.listeners import hookimpl

log = logging.getLogger(__name__)

DAG_IDS = frozenset({"crm_bulk_update"})


def note_for(dag_run: Any, session: Any) -> str | None:
    """The outcome note pushed by the run's ``report_outcome`` task, or None."""
    from airflow.models.xcom import XComModel

    from salesops.bulk_update.outcome import TASK_ID, XCOM_KEY

    row = session.scalars(
        XComModel.get_many(
            run_id=dag_run.run_id, key=XCOM_KEY, task_ids=TASK_ID, dag_ids=dag_run.dag_id
        ).limit(1)
    ).first()
    if row is None:
        return None
    value = XComModel.deserialize_value(row)
    if isinstance(value, str):  # stored as JSON text by some XCom paths
        value = json.loads(value)
    return value.get("note") if isinstance(value, dict) else None


def set_outcome_note(dag_run: Any) -> str | None:
    """Set the run's note from its outcome (keeps a note a person already wrote); returns it.

    In the scheduler the run is attached to the scheduler's session and the note joins its
    transaction. A detached run (``dag.test()``) gets the note through a session of its own.
    """
    from sqlalchemy import inspect

    if dag_run.dag_id not in DAG_IDS:
        return None
    session = inspect(dag_run).session
    if session is not None:
        note = note_for(dag_run, session)
        if note and not dag_run.note:
            dag_run.note = note
            session.flush()
        return note
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as own:
        attached = own.get(DagRun, dag_run.id)
        if attached is None:
            return None
        note = note_for(attached, own)
        if note and not attached.note:
            attached.note = note
        return note


def _safe(dag_run: Any) -> None:
    try:
        set_outcome_note(dag_run)
    except Exception:  # a note is never worth breaking the scheduler
        log.exception("could not set the outcome note of %s", getattr(dag_run, "run_id", "?"))


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _safe(dag_run)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _safe(dag_run)
