"""Mapped tasks carry readable labels in the grid (map_index_template), not bare indexes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_extract_and_load_are_labelled_by_object(demo_env, airflow_db):
    from salesops.runner import run_dag, task_instances

    dr = run_dag("crm_extract_load", {"source": "demo", "objects": ["user", "account"]})
    labels = {(ti.task_id, ti.rendered_map_index) for ti in task_instances(dr) if ti.map_index >= 0}
    assert labels == {("extract", "user"), ("extract", "account"), ("load", "user"), ("load", "account")}


def test_pack_label():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "dags" / "report_packs.py"
    spec = importlib.util.spec_from_file_location("report_packs_labels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    jobs = [
        {"pack": "dq_scorecard", "scope_type": t, "scope_value": v}
        for t, v in [("all", "all"), ("team", "EMEA-MM")]
    ]
    assert mod._label({"pack": "dq_scorecard", "jobs": jobs}) == "dq_scorecard: 2 slices (all, team)"
    assert mod._label({"pack": "quarter_end", "jobs": jobs[:1]}) == "quarter_end: 1 slice (all)"
