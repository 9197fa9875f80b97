"""Benchmark: report_packs' weekly run of every slice under a real scheduler (LocalExecutor).

    make demo                                   # a warehouse with quality and KPI marts built
    PYTHONPATH=plugins:. .venv/bin/python bench/packs_scheduler.py [--data-dir data] \\
        [--parallelism 2] [--json bench/packs_scheduler.json]

Starts, on 127.0.0.1 with free ports, a PostgreSQL metadata DB, the api-server, scheduler
(LocalExecutor) and dag-processor (the builders of tests/support/airflow_stack.py), and a local SMTP
sink behind ``smtp_default``; copies ``warehouse.duckdb`` of ``--data-dir`` into a temp folder (the
original is not touched); unpauses report_packs and triggers it with its default params - the packs
due for the data's as-of date, every audience (the small demo: 31 slices) - and waits. Prints the
run's wall time (run start to end, from the REST API), each task's duration and queue wait, the
emails received, then stops every component (SIGTERM, then SIGKILL).

:func:`measure` returns the same figures as a dict (for bench/REPORT.md builders).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]


def cpu_seconds(pgids: set[int]) -> float:
    """User + system CPU seconds of every live process in these process groups, including the
    children they have reaped (task processes end inside the LocalExecutor's worker processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) in pgids:  # pgrp; then utime, stime, cutime, cstime = fields 11-14
            total += sum(int(x) for x in fields[11:15])
    return total / tick


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def measure(data_dir: Path, parallelism: int = 2, timeout: float = 1200.0) -> dict[str, Any]:
    """Run report_packs once under a LocalExecutor scheduler on a copy of ``data_dir``'s warehouse.

    Returns:
        ``{"wall_s", "cpu_s", "state", "slices", "published", "tasks": [{task, label, duration_s,
        queued_s, state}], "emails", "parallelism", "load_avg"}``.
    """
    from tests.support.airflow_stack import (
        USERS,
        AirflowClient,
        SmtpSink,
        _StackBuilder,
        airflow_env,
        free_port,
        stop_components,
    )

    src = Path(data_dir) / "warehouse.duckdb"
    if not src.exists():
        raise SystemExit(f"{src} does not exist: run `make demo` first (or pass --data-dir)")
    root = Path(tempfile.mkdtemp(prefix="salesops-packs-bench-"))
    root.chmod(0o755)
    smtp = SmtpSink().start()
    b = _StackBuilder(root, smtp)
    try:
        db_url = b.start_postgres()
        home, data, out = root / "airflow", root / "data", root / "out"
        for d in (home, data, out):
            d.mkdir()
        shutil.copy2(src, data / "warehouse.duckdb")
        passwords = {u: secrets.token_urlsafe(12) for u in USERS}
        (home / "passwords.json").write_text(json.dumps(passwords))
        api_port = free_port()
        env = airflow_env(
            home=home,
            data_dir=data,
            output_dir=out,
            db_url=db_url,
            broker_url="redis://unused",
            api_port=api_port,
            smtp=smtp,
            passwords_file=home / "passwords.json",
            config_dir=ROOT / "include" / "config",
        )
        env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__CELERY__")}
        env.pop("SALESOPS_CONFIG_DIR", None)  # the project's own policy
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "SALESOPS_PACK_PARALLELISM": str(parallelism),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            }
        )
        airflow = str(Path(sys.executable).parent / "airflow")
        import subprocess

        with open(b.logs / "db-migrate.log", "wb") as fh:
            subprocess.run(
                [airflow, "db", "migrate"], env=env, stdout=fh, stderr=subprocess.STDOUT, check=True
            )
        b.spawn("api-server", [airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port)], env)
        b.spawn("scheduler", [airflow, "scheduler"], env)
        b.spawn("dag-processor", [airflow, "dag-processor"], env)
        base = f"http://127.0.0.1:{api_port}"

        b._wait(lambda: _ready(base), "api-server, scheduler and dag-processor", 300)
        api = AirflowClient(base, "admin", passwords["admin"])
        b._wait(lambda: "report_packs" in api.dags(), "report_packs parsed", 300)
        api.set_paused("report_packs", False)
        groups = {c.proc.pid for c in b.components if c.name != "postgres"}
        load_before, cpu_before = os.getloadavg(), cpu_seconds(groups)
        run = api.trigger("report_packs", {})
        done = api.wait_for_run("report_packs", run["dag_run_id"], timeout=timeout)
        load_after, cpu_after = os.getloadavg(), cpu_seconds(groups)
        start, end = _ts(done.get("start_date")), _ts(done.get("end_date"))
        tasks = []
        for ti in api.task_instances("report_packs", run["dag_run_id"]):
            ts, te, tq = _ts(ti.get("start_date")), _ts(ti.get("end_date")), _ts(ti.get("queued_when"))
            tasks.append(
                {
                    "task": ti["task_id"],
                    "label": ti.get("rendered_map_index"),
                    "state": ti.get("state"),
                    "duration_s": round((te - ts).total_seconds(), 1) if ts and te else None,
                    "queued_s": round((ts - tq).total_seconds(), 1) if ts and tq else None,
                }
            )
        summary = _summary(api, run["dag_run_id"])
        return {
            "wall_s": round((end - start).total_seconds(), 1) if start and end else None,
            # Airflow (scheduler, api-server, dag-processor) and every task process during the run:
            # on an idle machine with N cores the run cannot take less than cpu_s / N.
            "cpu_s": round(cpu_after - cpu_before, 1),
            "state": done.get("state"),
            "parallelism": parallelism,
            "slices": summary.get("slices"),
            "published": summary.get("published"),
            "emails": len(smtp.received()),
            "tasks": sorted(tasks, key=lambda t: (t["task"], str(t["label"]))),
            "load_avg": [round(x, 1) for x in (*load_before[:1], *load_after[:1])],
            "cpus": os.cpu_count(),
        }
    finally:
        stop_components(reversed(b.components))
        smtp.stop()
        shutil.rmtree(root, ignore_errors=True)


def _ready(base: str) -> bool:
    import requests

    try:
        health = requests.get(f"{base}/api/v2/monitor/health", timeout=5).json()
    except (requests.RequestException, ValueError):
        return False
    return all(
        health.get(k, {}).get("status") == "healthy" for k in ("metadatabase", "scheduler", "dag_processor")
    )


def _summary(api: Any, run_id: str) -> dict[str, Any]:
    try:
        entry = api.call(
            "GET",
            f"/api/v2/dags/report_packs/dagRuns/{run_id}/taskInstances/summarize/xcomEntries/return_value",
        )
        return entry.get("value") or {}
    except Exception:  # the figures above do not depend on it
        return {}


def main() -> None:
    from salesops import paths

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=paths.data_dir())
    ap.add_argument("--parallelism", type=int, default=2, help="SALESOPS_PACK_PARALLELISM for the run")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    result = measure(args.data_dir, args.parallelism)
    print(
        f"report_packs under LocalExecutor ({result['cpus']} cores, load average {result['load_avg'][0]} before, "
        f"{result['load_avg'][1]} after), SALESOPS_PACK_PARALLELISM={result['parallelism']}: "
        f"{result['state']} in {result['wall_s']} s wall, {result['cpu_s']} s CPU (Airflow + tasks); "
        f"{result['slices']} slices, "
        f"{result['published']} published, {result['emails']} emails"
    )
    for t in result["tasks"]:
        print(
            f"  {t['task']:<14}{t['label'] or '':<58}{t['duration_s']!s:>7} s  (queued {t['queued_s']} s)  {t['state']}"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
