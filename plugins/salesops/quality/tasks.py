"""Task bodies of the crm_data_quality DAG (plain values in, plain values out; testable without Airflow)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def _warehouse(conn_id: str) -> Any:
    from salesops.warehouse.hook import WarehouseHook

    return WarehouseHook(conn_id).warehouse


def run_checks(run_id: str, params: dict[str, Any], warehouse_conn_id: str) -> dict[str, Any]:
    """Run the catalogue, write the quality tables and Data Docs; return the run summary."""
    from salesops.quality.runner import run_quality

    summary = run_quality(
        _warehouse(warehouse_conn_id),
        run_id=run_id,
        as_of=params.get("as_of") or None,
        build_docs=bool(params.get("build_docs", True)),
    )
    for w in summary.warns_failed:
        log.warning(
            "warn check failing: %s (%s) %s of %s", w["check_id"], w["object"], w["failed"], w["evaluated"]
        )
    return summary.to_dict()


def draft_tickets(run_id: str, warehouse_conn_id: str) -> list[str]:
    """Write ticket drafts for systemic failures; return their paths."""
    from salesops.quality.tickets import draft_tickets as draft

    return [t["path"] for t in draft(_warehouse(warehouse_conn_id), run_id)]


def gate(run_id: str, warehouse_conn_id: str) -> dict[str, Any]:
    """Enforce the gate: a failed blocker fails the task without retries (the data will not fix itself)."""
    from airflow.sdk.exceptions import AirflowFailException

    from salesops.quality.gate import QualityGateFailed, enforce_gate

    try:
        result = enforce_gate(_warehouse(warehouse_conn_id), run_id)
    except QualityGateFailed as exc:
        raise AirflowFailException(str(exc)) from exc
    log.info(result.message)
    return {
        "passed": result.passed,
        "message": result.message,
        "warns": [w["check_id"] for w in result.warns],
    }
