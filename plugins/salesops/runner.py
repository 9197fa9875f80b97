"""In-process DAG runs (``dag.test()``) for ``make demo`` (and the end-to-end tests).

Not used by production runs: there the scheduler runs the DAGs. What only tests need (reading a
finished run's XComs from the metadata DB) lives in ``tests/support/runs.py``.
"""

from __future__ import annotations

import logging
from functools import cache, lru_cache
from typing import Any

from salesops import paths

log = logging.getLogger(__name__)


class DagRunFailed(RuntimeError):
    """A DAG run ended in a state other than success."""


@lru_cache(maxsize=1)
def _dagbag() -> Any:
    """Parse the dags-folder bundle once and serialise it to the metadata DB (as `airflow dags test` does)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        if bag.import_errors:  # the DAG integrity test fails on these; a run only needs its own DAG
            log.error("DAG import errors: %s", bag.import_errors)
        sync_bag_to_db(bag, bundle.name, bundle.version)
        if bag.dags:
            return bag
    raise RuntimeError(f"no DAGs found in {paths.PROJECT_ROOT / 'dags'}")


@cache
def _param_defaults(dag_id: str) -> dict[str, Any]:
    """The DAG's param defaults as declared, captured before any run.

    In process, Airflow merges a run's conf into the DAG's own Param objects (harmless when every
    task runs in a fresh process, as in production), so a second dag.test() would inherit the
    first run's conf. Every run here passes the full set: declared defaults overlaid by its conf.
    """
    import copy

    from airflow.sdk.definitions._internal.types import NOTSET

    dag = get_dag(dag_id)
    values = {k: dag.params.get_param(k).value for k in dag.params}
    return {k: copy.deepcopy(v) for k, v in values.items() if v is not NOTSET}


def dag_ids() -> list[str]:
    return sorted(_dagbag().dag_ids)


def get_dag(dag_id: str) -> Any:
    dag = _dagbag().get_dag(dag_id)
    if dag is None:
        raise KeyError(f"no DAG {dag_id!r}; have {dag_ids()}; import errors: {_dagbag().import_errors}")
    return dag


def run_dag(dag_id: str, conf: dict[str, Any] | None = None, *, check: bool = True) -> Any:
    """Run one DAG to completion in this process and return its DagRun.

    Args:
        dag_id: the DAG.
        conf: params for the run.
        check: raise :class:`DagRunFailed` (naming the failed tasks) unless the run succeeded.
    """
    dag = get_dag(dag_id)
    full_conf = {**_param_defaults(dag_id), **(conf or {})}
    log.info("running %s with %s", dag_id, full_conf)
    dr = dag.test(run_conf=full_conf)
    if check and str(dr.state) != "success":
        failed = [f"{ti.task_id}[{ti.map_index}]" for ti in task_instances(dr) if str(ti.state) == "failed"]
        raise DagRunFailed(f"{dag_id} run {dr.run_id} ended {dr.state}; failed tasks: {failed}")
    return dr


def task_instances(dag_run: Any) -> list[Any]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = (
            session.query(TaskInstance)
            .filter(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
            .all()
        )
        for ti in tis:
            session.expunge(ti)
        return tis
