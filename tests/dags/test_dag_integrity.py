"""Every DAG file imports cleanly, without I/O or heavy imports, and follows house policy.

How long a DAG file takes to parse is a benchmark figure (bench/dag_parse.py), not a timed assertion.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
HEAVY = [
    "pandas",
    "great_expectations",
    "duckdb",
    "pyarrow",
    "matplotlib",
    "weasyprint",
    "openpyxl",
    "rapidfuzz",
    "snowflake.connector",
    "simple_salesforce",
    "requests_mock",
]

# Imports one DAG file in a fresh interpreter with every kind of I/O a DAG file must not do at parse
# time made to fail loudly (network, database engines, Variable/Connection reads), and reports the
# heavy modules it pulled in and how long the import took (after Airflow itself is imported).
_PROBE = r"""
import importlib.util, json, socket, sys, time
sys.path[:0] = [{plugins!r}, {dags!r}]
import airflow.sdk  # baseline: Airflow's own import cost is not the DAG file's
before = set(sys.modules)

def boom(*a, **k):
    raise RuntimeError("I/O at DAG parse time")
socket.socket.connect = boom
import sqlalchemy
sqlalchemy.create_engine = boom
from airflow.sdk import Variable, BaseHook
Variable.get = staticmethod(boom)
BaseHook.get_connection = classmethod(boom)

t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("dagfile", {path!r})
mod = importlib.util.module_from_spec(spec)
from airflow.sdk.definitions._internal.contextmanager import DagContext
sys.modules["dagfile"] = mod
DagContext.current_autoregister_module_name = "dagfile"
spec.loader.exec_module(mod)
elapsed = time.perf_counter() - t0
new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in {heavy_roots!r} or m in {heavy!r})
dags = [d for d, _ in DagContext.autoregistered_dags]
print(json.dumps({{"elapsed": elapsed, "heavy": new, "dags": [d.dag_id for d in dags]}}))
"""


def _probe(path: Path) -> dict:
    code = _PROBE.format(
        plugins=str(ROOT / "plugins"),
        dags=str(ROOT / "dags"),
        path=str(path),
        heavy=HEAVY,
        heavy_roots=sorted({h.split(".")[0] for h in HEAVY if "." not in h}),
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{path.name} failed to import:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_there_are_dags():
    assert DAG_FILES, "no DAG files found"


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.stem for p in DAG_FILES])
def test_dag_file_imports_without_io_or_heavy_imports(path):
    result = _probe(path)
    assert result["dags"] == [path.stem], "one DAG per file, dag_id = file stem"
    assert result["heavy"] == [], f"heavy modules imported at parse time: {result['heavy']}"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_dagbag_has_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {p.stem for p in DAG_FILES}


def test_dag_policy(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 80, f"{dag_id}: doc_md missing"
        assert dag.tags and "salesops" in dag.tags, f"{dag_id}: tag 'salesops' missing"
        assert dag.max_active_runs == 1, f"{dag_id}: max_active_runs must be 1"
        assert dag.catchup is False, f"{dag_id}: catchup must be off"
        # Retries are a decision of each DAG (default_args), not Airflow's configured default; a
        # task may override them (writes and sends use 0 or 1), within a small bound.
        assert "retries" in dag.default_args and "retry_delay" in dag.default_args, (
            f"{dag_id}: default_args must set retries and retry_delay"
        )
        for t in dag.tasks:
            assert t.owner == "revops-data", f"{dag_id}.{t.task_id}: owner"
            assert isinstance(t.retries, int) and 0 <= t.retries <= 3, (
                f"{dag_id}.{t.task_id}: retries {t.retries!r}"
            )
            if t.retries:
                assert t.retry_delay.total_seconds() >= 60, (
                    f"{dag_id}.{t.task_id}: retry_delay {t.retry_delay}"
                )
