"""
### demo_crm_simulate

Advances the **demo CRM's** clock by `days` days of realistic activity (stage moves, close-date
pushes and pull-ins, amount edits, new leads and opportunities, wins and losses, deletes), so the
next `crm_extract_load` run has a real increment and week-over-week reports have something to
show. Every change is written to the demo's change log. With `reseed`, the demo CRM is first
regenerated from `seed` and `size` (this discards its history).

Only touches the demo source (`data/demo_crm.duckdb`); never a real CRM.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["salesops", "demo"],
    default_args={"owner": "revops-data", "retries": 0, "retry_delay": timedelta(minutes=1)},
    params={
        "days": Param(7, type="integer", minimum=0, maximum=366, description="Days to simulate."),
        "reseed": Param(False, type="boolean", description="Regenerate the demo CRM first."),
        "seed": Param(42, type="integer", description="Random seed used when reseeding."),
        "size": Param(
            "small", type="string", description="small | medium | large | a number of opportunities."
        ),
    },
)
def demo_crm_simulate():
    @task
    def simulate(params: dict | None = None) -> dict:
        from salesops_demo.tasks import simulate as run

        return run(**(params or {}))

    simulate()


demo_crm_simulate()
