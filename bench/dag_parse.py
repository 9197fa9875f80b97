"""Benchmark: how long each DAG file takes to parse (the figure tests/dags used to assert < 2 s).

    python bench/dag_parse.py [--repeat 5]

Each DAG file is imported ``--repeat`` times, each time in a fresh interpreter that has already
imported ``airflow.sdk`` (Airflow's own import cost, about 3.5 s here, is not the DAG file's), the
way the DAG processor meets it. Prints min / median / max seconds per file and the modules the file
pulled in beyond Airflow's.
Also times ``DagBag`` over the whole dags/ folder once (what ``airflow dags list`` parses).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_PROBE = r"""
import importlib.util, json, sys, time
sys.path[:0] = [{plugins!r}, {dags!r}]
import airflow.sdk
before = set(sys.modules)
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("dagfile", {path!r})
mod = importlib.util.module_from_spec(spec)
sys.modules["dagfile"] = mod
spec.loader.exec_module(mod)
elapsed = time.perf_counter() - t0
print(json.dumps({{"elapsed": elapsed, "modules": len(set(sys.modules) - before)}}))
"""

_DAGBAG = r"""
import json, sys, time
sys.path[:0] = [{plugins!r}, {dags!r}]
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
t0 = time.perf_counter()
bag = DagBag(dag_folder={dags!r})
print(json.dumps({{"elapsed": time.perf_counter() - t0, "dags": len(bag.dag_ids), "errors": len(bag.import_errors)}}))
"""


def _run(code: str) -> dict:
    # The project-local Airflow home, as `make` sets it (no examples, nothing under ~/airflow).
    env = {
        "AIRFLOW_HOME": str(ROOT / ".airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        **os.environ,
    }
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    dirs = {"plugins": str(ROOT / "plugins"), "dags": str(ROOT / "dags")}
    files = sorted(p for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
    print(f"{'DAG file':<28} {'min s':>7} {'median s':>9} {'max s':>7} {'modules':>8}")
    for path in files:
        runs = [_run(_PROBE.format(path=str(path), **dirs)) for _ in range(args.repeat)]
        secs = [r["elapsed"] for r in runs]
        print(
            f"{path.name:<28} {min(secs):7.3f} {statistics.median(secs):9.3f} {max(secs):7.3f} "
            f"{runs[-1]['modules']:8d}"
        )
    t0 = time.perf_counter()
    bag = _run(_DAGBAG.format(**dirs))
    print(
        f"DagBag of dags/: {bag['elapsed']:.2f} s for {bag['dags']} DAGs, {bag['errors']} import errors "
        f"(process total {time.perf_counter() - t0:.1f} s incl. importing Airflow)"
    )


if __name__ == "__main__":
    main()
