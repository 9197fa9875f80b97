"""Reading finished in-process DAG runs (``salesops.runner.run_dag``) back from the metadata DB.

Test-only: ``make demo`` never reads XComs, so this ORM access (Airflow's metadata models) is kept
out of the production library.
"""

from __future__ import annotations

from typing import Any


def xcom(dag_run: Any, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
    """The return value (or the XCom ``key``) of one task of a finished run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.map_index == map_index,
                XComModel.key == key,
            )
            .one_or_none()
        )
        return None if row is None else XComModel.deserialize_value(row)
