"""Quiet scheduling (issue 16): what the scheduler does on first unpause and when nothing is new.

- the Asset-scheduled downstream DAGs are unpaused on creation (unpausing only the extract is
  enough), the extract is not (the operator decides when the source is read);
- first unpause starts at most the latest due run (no catch-up), only at the documented times;
- nothing sends failure or retry emails;
- a pack run before any KPI build skips instead of failing (tests/e2e covers the empty load).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOWNSTREAM = {"crm_data_quality", "kpi_transforms", "report_packs"}
# dag_id -> (cron summary, longest gap between two runs); every other DAG runs only when triggered
# or on Assets.
TIMED = {
    "crm_extract_load": ("0 * * * *", timedelta(hours=1)),
    "report_packs": ("0 7 * * 1", timedelta(days=7)),
}


@pytest.fixture(scope="module")
def dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags


def _core(dag):
    from airflow.serialization.encoders import coerce_to_core_timetable

    return coerce_to_core_timetable(dag.timetable)


def test_downstream_dags_are_unpaused_on_creation_and_the_extract_is_not(dags):
    from airflow.timetables.simple import AssetTriggeredTimetable

    for dag_id in DOWNSTREAM:
        assert dags[dag_id].is_paused_upon_creation is False, dag_id
    for dag_id in ("crm_data_quality", "kpi_transforms"):
        assert isinstance(_core(dags[dag_id]), AssetTriggeredTimetable), dag_id
    # None = the deployment's default (paused at creation in docker-compose.yaml and the stack)
    assert dags["crm_extract_load"].is_paused_upon_creation in (None, True)


def test_first_unpause_starts_at_most_the_latest_due_run(dags):
    from airflow.timetables.base import TimeRestriction

    now = datetime.now(UTC)
    timed = {}
    for dag_id, dag in dags.items():
        assert dag.catchup is False, dag_id
        tt = _core(dag)
        restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=dag.catchup)
        first = tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
        if first is None:
            continue
        timed[dag_id] = tt.summary
        _, gap = TIMED[dag_id]
        # at most one run is due at once, and it is the latest one (not the start_date's, months ago)
        assert now - gap <= first.run_after, (dag_id, first.run_after)
        second = tt.next_dagrun_info(
            last_automated_data_interval=first.data_interval, restriction=restriction
        )
        assert second.run_after > now, (dag_id, second.run_after)
    assert {d: s.removeprefix("Asset or ") for d, s in timed.items()} == {d: c for d, (c, _) in TIMED.items()}


def test_packs_run_mondays_at_seven_utc_only(dags):
    from airflow.timetables.base import TimeRestriction

    tt = _core(dags["report_packs"])
    restriction = TimeRestriction(earliest=datetime(2026, 1, 1, tzinfo=UTC), latest=None, catchup=True)
    info, runs = None, []
    for _ in range(6):
        info = tt.next_dagrun_info(
            last_automated_data_interval=info and info.data_interval, restriction=restriction
        )
        runs.append(info.run_after)
    assert all((r.weekday(), r.hour, r.minute, r.utcoffset()) == (0, 7, 0, timedelta(0)) for r in runs), runs


def test_no_task_sends_failure_or_retry_emails(dags):
    noisy = [
        (dag_id, t.task_id) for dag_id, dag in dags.items() for t in dag.tasks if getattr(t, "email", None)
    ]
    assert noisy == []


def test_a_pack_run_before_any_kpi_build_has_nothing_to_report(tmp_path, monkeypatch):
    from salesops.packs import tasks
    from salesops.warehouse import Warehouse

    wh = Warehouse(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    monkeypatch.setattr(tasks, "_warehouse", lambda conn_id: wh)
    with pytest.raises(tasks.NothingToReport, match="no KPI build yet"):
        tasks.gate({}, "salesops_warehouse")
