"""`make run` (scripts/run.py) exit codes: 0 published, 1 quality gate held, 2 bad arguments or
config, 3 a pack was held, 4 a task error — each printed with its reasons.

The DAG runs are replaced by fakes (``salesops.runner.run_dag``: a run that succeeds, or fails
with named tasks); everything else is real: the argument and config checks (policy overlay,
column map), the warehouse tables the outcome is read from (quality.run, ops.pack_hold, created by
the project's own DDL in a temporary DuckDB) and the mapping of outcomes to codes."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from tests.conftest import use_dirs

from salesops import policy

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "tests" / "fixtures" / "foreign_crm" / "export"


@dataclass
class FakeRun:
    dag_id: str
    state: str
    run_id: str


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Private data/output folders, no overlay, and a recorder of the DAGs the run started."""
    monkeypatch.delenv("SALESOPS_CONFIG_DIR", raising=False)
    policy.reset()
    with use_dirs(tmp_path / "data", tmp_path / "out"):
        (tmp_path / "data").mkdir()
        yield tmp_path
    policy.reset()


def _warehouse():
    from salesops.warehouse import Warehouse

    return Warehouse()


def _fake_dags(monkeypatch, failing: dict[str, list[str]] | None = None, on_run=None) -> list[str]:
    """Replace run_dag: every DAG succeeds except ``failing`` (dag_id -> failed task ids)."""
    import scripts.run

    import salesops.runner

    failing = failing or {}
    started: list[str] = []

    def run_dag(dag_id, conf=None, *, check=True):
        started.append(dag_id)
        if on_run is not None:
            on_run(dag_id)
        return FakeRun(dag_id, "failed" if dag_id in failing else "success", f"manual__{dag_id}")

    monkeypatch.setattr(salesops.runner, "run_dag", run_dag)
    monkeypatch.setattr(
        scripts.run, "_failed_tasks", lambda dr: [f"{t}[-1]" for t in failing.get(dr.dag_id, [])]
    )
    return started


def _quality_run(status: str, message: str) -> None:
    wh = _warehouse()
    wh.run_file("quality/create_tables.sql")
    wh.execute(
        "insert into quality.run (run_id, as_of, started_at, status, gate_passed, blockers_failed, "
        "warns_failed, gate_message) values ('q1', :t, :t, :s, :p, 1, 0, :m)",
        {"t": datetime(2026, 11, 20, 14), "s": status, "p": status == "gate_passed", "m": message},
    )


def _pack_hold(run_id: str, pack: str, reasons: str) -> None:
    wh = _warehouse()
    wh.run_file("packs/create_tables.sql")
    wh.execute(
        "insert into ops.pack_hold (pack, period, scope_type, scope_value, held_at, reasons, held_dir, run_id) "
        "values (:p, '2026-W47', 'all', 'all', :t, :r, '/tmp/held', :id)",
        {"p": pack, "t": datetime(2026, 11, 20, 14), "r": reasons, "id": run_id},
    )


def _run(**kwargs) -> int:
    from scripts.run import run_chain

    return run_chain("csv", str(EXPORT), **kwargs)


def test_the_mapping_of_outcomes_to_codes():
    from scripts.run import EXIT_CODES, Outcome, exit_code

    assert exit_code(Outcome()) == 0
    assert exit_code(Outcome(gate_message="blocker")) == 1
    assert exit_code(Outcome(config_errors=["bad"], task_error="x", gate_message="g", held_packs=["p"])) == 2
    assert exit_code(Outcome(held_packs=["routing_sla all=all: no leads"])) == 3
    assert exit_code(Outcome(task_error="kpi_transforms failed", held_packs=["p"])) == 4
    assert exit_code(Outcome(gate_message="g", held_packs=["p"])) == 1
    assert sorted(EXIT_CODES) == [0, 1, 2, 3, 4]


def test_published_is_0(env, monkeypatch, capsys):
    started = _fake_dags(monkeypatch)
    assert _run() == 0
    assert started == ["crm_extract_load", "crm_data_quality", "kpi_transforms", "report_packs"]
    assert "Exit status 0: published." in capsys.readouterr().out


def test_a_held_quality_gate_is_1_with_the_blockers_and_nothing_downstream(env, monkeypatch, capsys):
    message = "quality gate FAILED - blocker checks: policy_unknown_value (Opportunity): 20 of 24 failed"
    started = _fake_dags(
        monkeypatch,
        failing={"crm_data_quality": ["gate"]},
        on_run=lambda d: _quality_run("gate_failed", message) if d == "crm_data_quality" else None,
    )
    assert _run() == 1
    assert started == ["crm_extract_load", "crm_data_quality"]
    out = capsys.readouterr().out
    assert f"QUALITY GATE HELD - nothing downstream was published:\n  {message}" in out
    assert "Exit status 1: quality gate held" in out


def test_a_failed_quality_task_is_a_task_error_not_a_held_gate(env, monkeypatch, capsys):
    started = _fake_dags(
        monkeypatch,
        failing={"crm_data_quality": ["run_checks"]},
        on_run=lambda d: _quality_run("running", "") if d == "crm_data_quality" else None,
    )
    assert _run() == 4
    assert started == ["crm_extract_load", "crm_data_quality"]
    out = capsys.readouterr().out
    assert "TASK ERROR - crm_data_quality ended failed; failed tasks: ['run_checks[-1]']" in out
    assert "QUALITY GATE HELD" not in out and "Exit status 4: a task failed." in out


@pytest.mark.parametrize("dag_id", ["crm_extract_load", "kpi_transforms", "report_packs"])
def test_a_failed_task_in_any_other_dag_is_4(env, monkeypatch, capsys, dag_id):
    started = _fake_dags(monkeypatch, failing={dag_id: ["boom"]})
    assert _run() == 4
    assert started[-1] == dag_id
    assert f"TASK ERROR - {dag_id} ended failed; failed tasks: ['boom[-1]']" in capsys.readouterr().out


def test_an_exception_while_running_is_4(env, monkeypatch, capsys):
    def explode(dag_id):
        if dag_id == "kpi_transforms":
            raise RuntimeError("dag.test blew up")

    _fake_dags(monkeypatch, on_run=explode)
    assert _run() == 4
    assert "TASK ERROR - RuntimeError: dag.test blew up" in capsys.readouterr().out


def test_a_held_pack_is_3_with_its_reasons(env, monkeypatch, capsys):
    reasons = "section routing_sla: no Lead records loaded (the source has none, or does not export Lead)"

    def hold(dag_id):
        if dag_id == "report_packs":
            _pack_hold("manual__report_packs", "routing_sla", reasons)
            _pack_hold("an_earlier_run", "forecast_hygiene", "an old hold is not this run's")

    _fake_dags(monkeypatch, on_run=hold)
    assert _run() == 3
    out = capsys.readouterr().out
    assert f"PACKS HELD - 1 slice(s) not published (ops.pack_hold):\n  routing_sla all=all: {reasons}" in out
    assert "an old hold" not in out and "Exit status 3: a pack was held" in out


def _bad_config(env, monkeypatch, capsys, **kwargs) -> str:
    started = _fake_dags(monkeypatch)
    from scripts.run import run_chain

    assert run_chain(**kwargs) == 2
    assert started == []  # nothing ran
    captured = capsys.readouterr()
    assert "Exit status 2: bad arguments or config, nothing ran." in captured.out
    return captured.err


def test_bad_config_is_2_and_nothing_runs(env, monkeypatch, capsys, tmp_path):
    err = _bad_config(env, monkeypatch, capsys, source="csv", csv_folder=None)
    assert "make run SOURCE=csv needs CSV_FOLDER=<export folder>" in err
    err = _bad_config(env, monkeypatch, capsys, source="csv", csv_folder=str(tmp_path / "nowhere"))
    assert "CSV export folder not found" in err
    err = _bad_config(env, monkeypatch, capsys, source="excel", csv_folder=str(EXPORT))
    assert "unknown source 'excel'" in err
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(EXPORT / "opportunities.csv", bare)
    err = _bad_config(env, monkeypatch, capsys, source="csv", csv_folder=str(bare))
    assert "no column map" in err and "make profile" in err
    (bare / "column_map.yaml").write_text(
        "objects:\n  Opportunity:\n    file: opportunities.csv\n    colums: {}\n"
    )
    err = _bad_config(env, monkeypatch, capsys, source="csv", csv_folder=str(bare))
    assert "column_map.yaml" in err


def test_an_unfilled_starter_overlay_is_2_naming_the_file(env, monkeypatch, capsys, tmp_path):
    """The profile's starter overlay with its TODOs left in place fails validation on purpose."""
    from salesops.onboarding.profile import profile_folder, write_drafts

    write_drafts(profile_folder(EXPORT), tmp_path / "profile")
    monkeypatch.setenv("SALESOPS_CONFIG_DIR", str(tmp_path / "profile" / "config"))
    policy.reset()
    err = _bad_config(env, monkeypatch, capsys, source="csv", csv_folder=str(EXPORT))
    assert "stages.yaml" in err and "TODO" in err


def test_a_data_folder_holding_the_demo_crm_is_2(env, monkeypatch, capsys):
    (env / "data" / "demo_crm.duckdb").write_bytes(b"")
    err = _bad_config(env, monkeypatch, capsys, source="csv", csv_folder=str(EXPORT))
    assert "it holds the demo CRM" in err


def test_bad_arguments_are_2(env):
    from scripts.run import main

    with pytest.raises(SystemExit) as exc:
        main(["--no-such-option"])
    assert exc.value.code == 2
