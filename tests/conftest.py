"""Hermetic test environment: one temporary AIRFLOW_HOME, data dir and output dir per session.

The environment is set before anything imports Airflow, so no test sees the developer's
~/airflow, example DAGs or default connections.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="salesops-tests-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(_SESSION_DIR / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_SESSION_DIR / 'airflow' / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "SALESOPS_DATA_DIR": str(_SESSION_DIR / "data"),
        "SALESOPS_OUTPUT_DIR": str(_SESSION_DIR / "out"),
    }
)
os.environ.pop("SALESOPS_WAREHOUSE_URL", None)
(_SESSION_DIR / "airflow").mkdir(parents=True, exist_ok=True)

import pytest  # noqa: E402

# Shared fixtures: the stateful fake Salesforce org (fake_sf) for connector and fault tests; the
# distributed stack (PostgreSQL, Redis, Airflow components, two Celery workers) and the SMTP sink
# (session fixtures `airflow_stack`, `smtp_sink`, started only by tests that use them).
pytest_plugins = ["tests.fakes.fixtures", "tests.support.airflow_stack"]


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


# --- shared Airflow metadata DB and demo data (one setup per test session) -----------------------

import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402


@contextmanager
def use_dirs(data_dir: Path, output_dir: Path) -> Iterator[None]:
    """Point the library (demo CRM, default warehouse, landing, outputs) at other folders."""
    old = {k: os.environ.get(k) for k in ("SALESOPS_DATA_DIR", "SALESOPS_OUTPUT_DIR")}
    os.environ["SALESOPS_DATA_DIR"], os.environ["SALESOPS_OUTPUT_DIR"] = str(data_dir), str(output_dir)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class DemoEnv:
    """A private copy of the demo CRM and the warehouse loaded from it (one per test module)."""

    data_dir: Path
    output_dir: Path

    @property
    def warehouse(self):
        from salesops.warehouse import Warehouse

        return Warehouse(f"duckdb:///{self.data_dir / 'warehouse.duckdb'}")

    @property
    def crm(self):
        from salesops_demo import DemoCrm

        return DemoCrm(self.data_dir / "demo_crm.duckdb")


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Create the (SQLite) metadata DB once per session; dag.test() needs it."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def golden_demo(airflow_db, session_dir: Path) -> DemoEnv:
    """The default demo CRM (size small, seed 42), fully loaded by the crm_extract_load DAG. Read-only:
    tests that change anything use ``demo_env`` (a copy)."""
    from salesops.runner import run_dag
    from salesops_demo import DemoCrm

    env = DemoEnv(session_dir / "golden" / "data", session_dir / "golden" / "out")
    with use_dirs(env.data_dir, env.output_dir):
        DemoCrm.seed(size="small", seed=42, path=env.data_dir / "demo_crm.duckdb")
        run_dag("crm_extract_load", {"source": "demo"})
    return env


@pytest.fixture(scope="module")
def demo_env(golden_demo: DemoEnv, tmp_path_factory) -> Iterator[DemoEnv]:
    """A private, writable copy of the loaded demo (CRM + warehouse), active for the whole module:
    the library's default paths point at it while the module's tests run."""
    root = tmp_path_factory.mktemp("demo")
    env = DemoEnv(root / "data", root / "out")
    shutil.copytree(golden_demo.data_dir, env.data_dir, ignore=shutil.ignore_patterns("landing"))
    env.output_dir.mkdir(parents=True)
    with use_dirs(env.data_dir, env.output_dir):
        yield env


# Alias announced to the job packages' tests.
demo_warehouse = demo_env


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (`make test`: `-n auto --dist loadscope`) each test module runs whole on one
    worker, so module-scoped fixtures (a demo copy, a DAG run) are built once, and the modules under
    tests/stack (the distributed stack and the browser) run together on one worker, so the
    session-scoped stack starts once. (xdist's `loadgroup` would do this with marks, but pytest 9.2's
    structured node ids make it ignore them: pytest-dev/pytest-xdist#1386.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "tests/stack" if module.startswith("tests/stack/") else module

    return ModuleScheduling(config, log)


# DuckDB 2.0's Python binding (nanobind) prints hundreds of "leaked instance" lines at interpreter
# shutdown when connections were garbage-collected late. They are harmless but bury pytest's
# summary, so the test process ends right after pytest is done, with pytest's exit status.
_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


def pytest_unconfigure(config):
    # (not in a pytest-xdist worker: it reports to the controller after this hook)
    if (
        _EXIT_STATUS
        and not os.environ.get("SALESOPS_NORMAL_EXIT")
        and not os.environ.get("PYTEST_XDIST_WORKER")
    ):
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
