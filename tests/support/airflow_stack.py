"""A distributed Airflow 3 stack on 127.0.0.1 for tests, without Docker (pytest plugin).

``airflow_stack`` (session scope, started on first use, once per session) runs what
``docker-compose.yaml`` runs, from this machine's packages and the project's venv:

- PostgreSQL (Debian's binaries: ``initdb`` into a temp dir, the postmaster in the foreground so it
  is stopped like every other component) as the metadata DB and Celery result backend;
- Redis (``redis-server``) as the Celery broker;
- ``airflow db migrate``, then api-server, scheduler, dag-processor, triggerer and two Celery
  workers (``worker1``, ``worker2``) with the CeleryExecutor and the settings of
  :data:`CELERY_SETTINGS` (the compose file's, checked by tests/deploy);
- a local SMTP sink (aiosmtpd; also the ``smtp_sink`` fixture) behind the ``smtp_default``
  connection, so pack emails can be read back.

Every server listens on 127.0.0.1 on a free port; every component runs in its own process group
and is stopped with SIGTERM, then SIGKILL after a timeout. The Airflow home, the demo CRM, the
warehouse (a DuckDB file, connection ``salesops_warehouse``) and the outputs live in a temp dir;
the DAGs and plugins are this project's. The policy files are the project's too, except that each
report pack goes to its company-wide audience only and two slices render at once (see
:func:`stack_config`), so the Asset chain fits CI time on two cores. Users (SimpleAuthManager, passwords written by the
fixture): ``requester``, ``approver``, ``approver2`` (role ``user``), ``admin`` (``admin``) and the
stakeholder ``revops-demo`` (``viewer``);
``approver`` and ``approver2`` are the bulk-update approver groups.

Any test that uses ``airflow_stack`` is marked ``stack`` automatically (``-m "not stack"`` never
starts it). :class:`AirflowClient` is the REST API v2 client the tests share.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)

# Airflow settings the stack shares with docker-compose.yaml (x-airflow-common); only the hosts
# differ (compose: service names; here: 127.0.0.1 and free ports). tests/deploy checks they match.
CELERY_SETTINGS = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
    "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
}

# Simple auth manager users (name -> role). Approvers are the bulk-update approver groups.
# ``revops-demo`` (viewer) is the packs' company-wide recipient: the stakeholder of the browser tests,
# who reads the RevOps console (scoped like the packs).
USERS = {
    "requester": "user",
    "approver": "user",
    "approver2": "user",
    "admin": "admin",
    "revops-demo": "viewer",
}
APPROVER_GROUPS = {"SALES_OPS": "approver,approver2", "REVOPS_LEADERSHIP": "approver2"}
WORKERS = ("worker1", "worker2")

STOP_TIMEOUT_S = 20.0
START_TIMEOUT_S = float(os.getenv("SALESOPS_STACK_START_TIMEOUT", "300"))


class StackError(RuntimeError):
    """The stack could not start (the message names the component and ends with its log)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- SMTP sink ---------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One message the sink accepted: SMTP envelope plus the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.raw)

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message (aiosmtpd); nothing leaves the machine."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd handler hook
        with self._lock:
            self.messages.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self.messages)

    def connection_json(self) -> str:
        """The Airflow SMTP connection (``AIRFLOW_CONN_SMTP_DEFAULT``) for this sink."""
        return json.dumps(
            {
                "conn_type": "smtp",
                "host": self.host,
                "port": self.port,
                "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "salesops@example.com"},
            }
        )


# --- REST API v2 client ------------------------------------------------------------------------


class ApiError(RuntimeError):
    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} -> {status}: {body[:2000]}")
        self.status = status
        self.body = body


class AirflowClient:
    """A small client for Airflow's REST API v2, authenticated as one user (``POST /auth/token``).

    Args:
        base_url: the api-server, e.g. ``http://127.0.0.1:8080``.
        username, password: a SimpleAuthManager user.
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.timeout = timeout
        self._http = requests.Session()
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"AirflowClient({self.base_url!r}, user={self.username!r})"

    @property
    def token(self) -> str:
        if self._token is None:
            r = self._http.post(
                f"{self.base_url}/auth/token",
                json={"username": self.username, "password": self._password},
                timeout=self.timeout,
            )
            if r.status_code not in (200, 201):
                raise ApiError("POST", "/auth/token", r.status_code, r.text)
            self._token = r.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs: Any):
        """The raw ``requests.Response`` (for tests that check refusals: 403, 409...)."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        return self._http.request(method, url, headers=headers, timeout=self.timeout, **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.request(method, path, **kwargs)
        if r.status_code >= 400:
            raise ApiError(method, path, r.status_code, r.text)
        return r.json() if r.content else None

    # DAGs
    def dags(self) -> dict[str, dict]:
        return {d["dag_id"]: d for d in self.call("GET", "/api/v2/dags", params={"limit": 1000})["dags"]}

    def import_errors(self) -> list[dict]:
        return self.call("GET", "/api/v2/importErrors", params={"limit": 1000})["import_errors"]

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        return self.call("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": paused})

    # runs
    def trigger(self, dag_id: str, conf: dict | None = None, note: str | None = None) -> dict:
        """Trigger a manual run now (``logical_date: null``, as the UI does)."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if note:
            body["note"] = note
        return self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def dag_runs(self, dag_id: str, **params: Any) -> list[dict]:
        params = {"limit": 100, "order_by": "run_after", **params}
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns", params=params)["dag_runs"]

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        states: Iterable[str] = ("success", "failed"),
        timeout: float = 300.0,
        poll: float = 1.0,
    ) -> dict:
        """Poll a run until its state is one of ``states``; TimeoutError names the unfinished tasks."""
        wanted = set(states)
        end = time.monotonic() + timeout
        while True:
            run = self.dag_run(dag_id, run_id)
            if run["state"] in wanted:
                return run
            if time.monotonic() > end:
                unfinished = [
                    f"{t['task_id']}[{t['map_index']}]={t['state']}"
                    for t in self.task_instances(dag_id, run_id)
                    if t["state"] not in ("success", "skipped", "failed", "upstream_failed")
                ]
                raise TimeoutError(f"{dag_id} {run_id} is {run['state']} after {timeout}s: {unfinished}")
            time.sleep(poll)

    def wait_for_new_run(
        self, dag_id: str, after: Iterable[str] = (), timeout: float = 300.0, poll: float = 1.0
    ) -> dict:
        """Wait until ``dag_id`` has a run whose id is not in ``after`` (e.g. one an Asset event started)."""
        known = set(after)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            new = [r for r in self.dag_runs(dag_id) if r["dag_run_id"] not in known]
            if new:
                return new[0]
            time.sleep(poll)
        raise TimeoutError(f"no new run of {dag_id} within {timeout}s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.call(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000}
        )["task_instances"]

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1
    ) -> str:
        r = self.request(
            "GET",
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"map_index": map_index, "full_content": True},
            headers={"Accept": "text/plain"},
        )
        if r.status_code >= 400:
            raise ApiError("GET", "logs", r.status_code, r.text)
        return r.text

    # human-in-the-loop
    def hitl_details(self, dag_id: str = "~", run_id: str = "~", **params: Any) -> list[dict]:
        return self.call(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/hitlDetails", params={"limit": 100, **params}
        )["hitl_details"]

    def wait_for_hitl(
        self, dag_id: str, run_id: str, timeout: float = 300.0, settle: float = 3.0, poll: float = 1.0
    ) -> dict:
        """Wait until the run has a pending (unanswered) HITL request, then ``settle`` seconds more.

        AIRFLOW-NOTES: an answer within ~1 s of the task starting to wait can mark it failed.
        """
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pending = [d for d in self.hitl_details(dag_id, run_id) if not d.get("response_received")]
            if pending:
                time.sleep(settle)
                return pending[0]
            run = self.dag_run(dag_id, run_id)
            if run["state"] in ("success", "failed"):
                raise AssertionError(f"{dag_id} {run_id} ended {run['state']} without asking for approval")
            time.sleep(poll)
        raise TimeoutError(f"no pending HITL request in {dag_id} {run_id} within {timeout}s")

    def respond_hitl(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int = -1,
        chosen_options: list[str] | None = None,
        params_input: dict | None = None,
    ):
        """PATCH the answer; returns the raw response (200, or 400/403/409 for refusals)."""
        return self.request(
            "PATCH",
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails",
            json={"chosen_options": chosen_options or [], "params_input": params_input or {}},
        )


def hitl_task(detail: dict) -> tuple[str, int]:
    """(task_id, map_index) of a HITL detail as returned by the list endpoint."""
    ti = detail.get("task_instance") or {}
    return ti.get("task_id") or detail["task_id"], ti.get("map_index", detail.get("map_index", -1))


# --- processes -----------------------------------------------------------------------------------


@dataclass
class Component:
    name: str
    proc: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_components(components: Iterable[Component], timeout: float = STOP_TIMEOUT_S) -> dict[str, str]:
    """SIGTERM every component's process group, wait up to ``timeout``, SIGKILL what is left.

    Returns how each one ended (``terminated`` / ``killed``).
    """
    components = list(components)
    for c in components:
        _signal_group(c.proc, signal.SIGTERM)
    end = time.monotonic() + timeout
    how: dict[str, str] = {}
    for c in components:
        try:
            c.proc.wait(timeout=max(0.1, end - time.monotonic()))
            how[c.name] = "terminated"
        except subprocess.TimeoutExpired:
            how[c.name] = "killed"
        # children that outlived their parent (task runners, gunicorn/uvicorn workers) go too
        _signal_group(c.proc, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            c.proc.wait(timeout=5)
    return how


# --- the stack ---------------------------------------------------------------------------------


@dataclass
class AirflowStack:
    """A running stack: where it is, who may log in, and helpers to drive it."""

    root: Path
    home: Path
    data_dir: Path
    output_dir: Path
    base_url: str
    env: dict[str, str]
    passwords: dict[str, str]
    smtp: SmtpSink
    redis_url: str
    postgres_url: str
    components: dict[str, Component] = field(default_factory=dict)
    start_seconds: float = 0.0
    stopped: dict[str, str] = field(default_factory=dict)
    _clients: dict[str, AirflowClient] = field(default_factory=dict)
    _loaded: dict[str, Any] = field(default_factory=dict)

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def warehouse_url(self) -> str:
        return f"duckdb:///{self.data_dir / 'warehouse.duckdb'}"

    def client(self, user: str = "admin") -> AirflowClient:
        """A REST client logged in as ``user`` (one of :data:`USERS`)."""
        if user not in self._clients:
            self._clients[user] = AirflowClient(self.base_url, user, self.passwords[user])
        return self._clients[user]

    def warehouse(self):
        from salesops.warehouse import Warehouse

        return Warehouse(self.warehouse_url)

    def demo_crm(self):
        from salesops_demo import DemoCrm

        return DemoCrm(self.data_dir / "demo_crm.duckdb")

    def task_log_files(self, dag_id: str | None = None) -> list[Path]:
        pattern = f"dag_id={dag_id}/**/*.log" if dag_id else "dag_id=*/**/*.log"
        return sorted(self.logs_dir.glob(pattern))

    def assert_healthy(self) -> None:
        dead = [
            f"{c.name} (exit {c.proc.returncode}):\n{_tail(c.log)}"
            for c in self.components.values()
            if not c.alive()
        ]
        if dead:
            raise StackError("stack component(s) died:\n" + "\n\n".join(dead))

    def stop(self) -> dict[str, str]:
        """Airflow components first (they still need the DB and broker to shut down), then Redis
        and PostgreSQL."""
        services = ("redis", "postgres")
        airflow = [c for c in self.components.values() if c.name not in services]
        self.stopped.update(stop_components(reversed(airflow)))
        self.stopped.update(stop_components(self.components[s] for s in services if s in self.components))
        return self.stopped

    def load_demo(self, timeout: float = 600.0) -> dict[str, dict]:
        """Once per session: trigger ``crm_extract_load`` (as ``requester``) and wait for the Asset
        chain (quality -> KPIs -> packs) to finish. Returns the runs by DAG id."""
        if not self._loaded:
            api = self.client("requester")
            before = {d: [r["dag_run_id"] for r in api.dag_runs(d)] for d in CHAIN[1:]}
            runs = {CHAIN[0]: api.trigger(CHAIN[0], {"source": "demo"})}
            runs[CHAIN[0]] = api.wait_for_run(CHAIN[0], runs[CHAIN[0]]["dag_run_id"], timeout=timeout)
            for dag_id in CHAIN[1:]:
                new = api.wait_for_new_run(dag_id, before[dag_id], timeout=timeout)
                runs[dag_id] = api.wait_for_run(dag_id, new["dag_run_id"], timeout=timeout)
            self._loaded.update(runs)
        return dict(self._loaded)


# The Asset chain one operator-triggered extract starts.
CHAIN = ("crm_extract_load", "crm_data_quality", "kpi_transforms", "report_packs")


class _StackBuilder:
    def __init__(self, root: Path, smtp: SmtpSink) -> None:
        self.root = root
        self.smtp = smtp
        self.components: list[Component] = []
        self.logs = root / "component-logs"
        self.logs.mkdir(parents=True)

    # -- generic process start
    def spawn(self, name: str, argv: list[str], env: dict[str, str], user: str | None = None) -> Component:
        log = self.logs / f"{name}.log"
        fh = open(log, "ab")
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stopped as a unit
            user=user,
            # SIGINT/SIGTERM default handlers in the child whatever the test runner set
            restore_signals=True,
        )
        fh.close()
        c = Component(name, proc, log)
        self.components.append(c)
        return c

    # -- PostgreSQL
    def start_postgres(self) -> str:
        if not PG_BIN_CANDIDATES:
            raise StackError("PostgreSQL binaries not found under /usr/lib/postgresql (apt: postgresql)")
        pg_bin = PG_BIN_CANDIDATES[0]
        pg_dir = self.root / "postgres"
        pg_dir.mkdir()
        # initdb refuses to run as root: run the server as Debian's postgres user then.
        user = "postgres" if os.geteuid() == 0 else None
        if user:
            shutil.chown(pg_dir, user=user)
        data = pg_dir / "data"
        port = free_port()
        init_log = self.logs / "initdb.log"
        with open(init_log, "wb") as fh:
            rc = subprocess.call(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "airflow",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                user=user,
                cwd=pg_dir,
            )
        if rc != 0:
            raise StackError(f"initdb failed:\n{_tail(init_log)}")
        self.spawn(
            "postgres",
            [
                str(pg_bin / "postgres"),
                "-D", str(data),
                "-h", "127.0.0.1",
                "-p", str(port),
                "-k", str(pg_dir),
                # a throwaway DB: durability off for speed
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ],
            {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
            user=user,
        )  # fmt: skip
        self._wait(lambda: self._pg_ready(port), "postgres", 60)
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="postgres")
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("create database airflow")
        con.close()
        return f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow"

    @staticmethod
    def _pg_ready(port: int) -> bool:
        import psycopg2

        try:
            psycopg2.connect(
                host="127.0.0.1", port=port, user="airflow", dbname="postgres", connect_timeout=2
            ).close()
            return True
        except psycopg2.OperationalError:
            return False

    # -- Redis
    def start_redis(self) -> str:
        exe = shutil.which("redis-server")
        if not exe:
            raise StackError("redis-server not found (apt: redis-server)")
        port = free_port()
        rdir = self.root / "redis"
        rdir.mkdir()
        self.spawn(
            "redis",
            [
                exe,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(rdir),
            ],
            {"PATH": os.environ.get("PATH", "")},
        )
        url = f"redis://127.0.0.1:{port}/0"

        def ready() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        self._wait(ready, "redis", 30)
        return url

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for c in self.components:
                if not c.alive():
                    raise StackError(
                        f"{c.name} exited with {c.proc.returncode} while waiting for {what}:\n{_tail(c.log)}"
                    )
            if ready():
                return
            time.sleep(0.5)
        logs = "\n\n".join(f"== {c.name}\n{_tail(c.log, 20)}" for c in self.components)
        raise StackError(f"{what} not ready within {timeout}s\n{logs}")


def airflow_env(
    *,
    home: Path,
    data_dir: Path,
    output_dir: Path,
    db_url: str,
    broker_url: str,
    api_port: int,
    smtp: SmtpSink,
    passwords_file: Path,
    config_dir: Path,
) -> dict[str, str]:
    """The environment every Airflow component of the stack shares."""
    from cryptography.fernet import Fernet

    base_url = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SALESOPS_", "PYTEST"))}
    env.update(CELERY_SETTINGS)
    env.update(
        {
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": f"{ROOT / 'plugins'}:{ROOT}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url.replace("+psycopg2", ""),
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.support.stack_hostname.hostname",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            # the project: demo CRM, warehouse file, outputs; pack email to the sink
            "SALESOPS_DATA_DIR": str(data_dir),
            "SALESOPS_OUTPUT_DIR": str(output_dir),
            "AIRFLOW_CONN_SALESOPS_WAREHOUSE": json.dumps(
                {
                    "conn_type": "generic",
                    "extra": {"sqlalchemy_url": f"duckdb:///{data_dir / 'warehouse.duckdb'}"},
                }
            ),
            "AIRFLOW_CONN_SMTP_DEFAULT": smtp.connection_json(),
            "SALESOPS_CONFIG_DIR": str(config_dir),
            # Slices spread over both workers; DuckDB writes wait for each other's file lock.
            "SALESOPS_PACK_PARALLELISM": "2",
            # The DAG files do not change during a session: parsed once at start-up, not every
            # 30 s (each re-parse of the 6 files costs CPU the tasks need on 2 shared cores).
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
            # Runs start only when an operator triggers them or an Asset event arrives: no
            # scheduled run on unpause to race the test's own.
            "SALESOPS_EXTRACT_SCHEDULE": "none",
            "SALESOPS_PACKS_SCHEDULE": "none",
            **{f"SALESOPS_APPROVERS_{g}": users for g, users in APPROVER_GROUPS.items()},
        }
    )
    return env


def stack_config(target: Path) -> Path:
    """The project's policy files, with each report pack sent to its company-wide audience only.

    The per-region/team/owner slices are proved in process by tests/e2e; on two CI cores the
    stack renders one slice per pack so the whole Asset chain stays within a few minutes.
    """
    import yaml

    shutil.copytree(ROOT / "include" / "config", target)
    packs_file = target / "packs.yaml"
    packs = yaml.safe_load(packs_file.read_text())
    for pack in packs["packs"].values():
        company = [a for a in pack.get("audiences", []) if a.get("scope") == "all"]
        pack["audiences"] = company or pack.get("audiences", [])[:1]
    packs_file.write_text(yaml.safe_dump(packs, sort_keys=False))
    return target


def start_stack(root: Path, smtp: SmtpSink) -> AirflowStack:
    """Start everything (see the module docstring); on any failure stop what started and raise."""
    t0 = time.monotonic()
    root.chmod(0o755)  # the postgres user must reach its data dir below
    b = _StackBuilder(root, smtp)
    try:
        db_url = b.start_postgres()
        broker_url = b.start_redis()
        home, data_dir, output_dir = root / "airflow", root / "data", root / "out"
        for d in (home, data_dir, output_dir):
            d.mkdir()
        passwords = {u: secrets.token_urlsafe(12) for u in USERS}
        passwords_file = home / "passwords.json"
        passwords_file.write_text(json.dumps(passwords))
        api_port = free_port()
        env = airflow_env(
            home=home,
            data_dir=data_dir,
            output_dir=output_dir,
            db_url=db_url,
            broker_url=broker_url,
            api_port=api_port,
            smtp=smtp,
            passwords_file=passwords_file,
            config_dir=stack_config(root / "config"),
        )
        airflow = str(VENV_BIN / "airflow")
        migrate_log = b.logs / "db-migrate.log"
        with open(migrate_log, "wb") as fh:
            migrate = subprocess.Popen(
                [airflow, "db", "migrate"], env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=root
            )
        try:
            # The demo CRM the default source reads, seeded while the metadata DB migrates (both
            # finish before any component starts).
            from salesops_demo import DemoCrm

            DemoCrm.seed(size="small", seed=42, path=data_dir / "demo_crm.duckdb")
            rc = migrate.wait(timeout=600)
        finally:
            if migrate.poll() is None:
                migrate.kill()
                migrate.wait()
        if rc != 0:
            raise StackError(f"airflow db migrate failed:\n{_tail(migrate_log)}")

        b.spawn(
            "api-server",
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1"],
            env,
        )
        b.spawn("scheduler", [airflow, "scheduler"], env)
        b.spawn("dag-processor", [airflow, "dag-processor"], env)
        # Log servers bind every interface (no host setting): skipped here, the api-server reads the
        # task logs from the shared folder on this one machine (compose: served on the network).
        b.spawn("triggerer", [airflow, "triggerer", "--skip-serve-logs"], env)
        for w in WORKERS:
            wenv = {**env, "SALESOPS_STACK_HOSTNAME": w}
            concurrency = CELERY_SETTINGS["AIRFLOW__CELERY__WORKER_CONCURRENCY"]
            b.spawn(
                w,
                [
                    airflow,
                    "celery",
                    "worker",
                    "--celery-hostname",
                    f"{w}@%h",
                    "--concurrency",
                    concurrency,
                    "--skip-serve-logs",
                ],
                wenv,
            )

        stack = AirflowStack(
            root=root,
            home=home,
            data_dir=data_dir,
            output_dir=output_dir,
            base_url=f"http://127.0.0.1:{api_port}",
            env=env,
            passwords=passwords,
            smtp=smtp,
            redis_url=broker_url,
            postgres_url=db_url,
            components={c.name: c for c in b.components},
        )
        b._wait(
            lambda: _healthy(stack.base_url),
            "api-server health (scheduler, triggerer, dag-processor)",
            START_TIMEOUT_S,
        )
        b._wait(lambda: _workers_ready(broker_url) >= len(WORKERS), "both Celery workers", START_TIMEOUT_S)
        expected = {p.stem for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_")}
        admin = stack.client("admin")
        b._wait(lambda: _dags_parsed(admin, expected), f"DAGs {sorted(expected)} parsed", START_TIMEOUT_S)
        for dag_id in sorted(expected):  # as an operator would after deploying
            admin.set_paused(dag_id, False)
        stack.start_seconds = time.monotonic() - t0
        return stack
    except BaseException:
        services = [c for c in b.components if c.name in ("redis", "postgres")]
        stop_components(reversed([c for c in b.components if c not in services]))
        stop_components(services)
        raise


def _healthy(base_url: str) -> bool:
    import requests

    try:
        health = requests.get(f"{base_url}/api/v2/monitor/health", timeout=5).json()
    except (requests.RequestException, ValueError):
        return False
    return all(
        health.get(k, {}).get("status") == "healthy"
        for k in ("metadatabase", "scheduler", "triggerer", "dag_processor")
    )


def _workers_ready(broker_url: str) -> int:
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        replies = app.control.ping(timeout=1.0) or []
    except Exception:  # broker not answering yet
        return 0
    finally:
        app.close()
    return len(replies)


def _dags_parsed(client: AirflowClient, expected: set[str]) -> bool:
    errors = client.import_errors()
    if errors:
        raise StackError(f"DAG import errors: {errors}")
    return expected <= set(client.dags())


# --- pytest wiring -------------------------------------------------------------------------------


def pytest_collection_modifyitems(config, items) -> None:
    # Whatever starts the stack is a stack test: `-m "not stack"` must never start it.
    users = []
    for item in items:
        if "airflow_stack" in getattr(item, "fixturenames", ()):
            users.append(item)
            if item.get_closest_marker("stack") is None:
                item.add_marker(pytest.mark.stack)
            # The first of them also starts the stack (38 s quiet, 242 s with eight test jobs on the
            # 2-core machine): 900 s timed out there mid-chain. The waits inside keep their own limits.
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(1800))
    # ... and they run last, together (stable order among them): the session-scoped stack starts
    # at the first of them and stops right after the last, instead of idling (scheduler,
    # dag-processor, api-server: ~12 % of a core) beside every later test of the session.
    # Under pytest-xdist (one worker runs them all, tests/conftest.py) they run first instead, so the
    # other worker does not idle at the end of the session waiting for the longest scope.
    if users:
        chosen = set(map(id, users))
        rest = [i for i in items if id(i) not in chosen]
        items[:] = users + rest if os.environ.get("PYTEST_XDIST_WORKER") else rest + users


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    """One local SMTP server for the session (the stack's ``smtp_default`` connection points at it)."""
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="session")
def airflow_stack(smtp_sink: SmtpSink) -> Iterator[AirflowStack]:
    """PostgreSQL + Redis + api-server, scheduler, dag-processor, triggerer and two Celery workers."""
    root = Path(tempfile.mkdtemp(prefix="salesops-stack-"))
    stack = start_stack(root, smtp_sink)
    print(
        f"\nairflow_stack: up in {stack.start_seconds:.1f}s at {stack.base_url} (files: {root})", flush=True
    )
    try:
        yield stack
    finally:
        stack.stop()
        print(f"\nairflow_stack: stopped {stack.stopped}", flush=True)
        # Logs stay for post-mortems; the databases go.
        for d in ("postgres", "redis"):
            shutil.rmtree(root / d, ignore_errors=True)
