"""`make demo DEMO_SIZE=large` timed (issue 17's last target): completes, <= 10 min, <= 4 GiB.

    .venv/bin/python bench/demo_large.py [--workdir bench/results/demo_large] [--size large]

``make bench-demo-large`` runs it. It runs the README's own command, ``make demo DEMO_SIZE=large``
(seed the 1 M-opportunity demo CRM, full load, a simulated week, incremental load, quality, KPIs,
the five company-wide packs, the bulk-update plan), with ``SALESOPS_DATA_DIR`` /
``SALESOPS_OUTPUT_DIR`` under ``--workdir`` so the checkout's own demo data is left alone, and
records:

* wall time of the whole command, and of each step (from the moment each ``Running ...`` line of
  the demo's output appears to the next one);
* CPU seconds (user + system of every process the command started);
* peak RSS: the largest single process the command started (``ru_maxrss`` of the reaped children;
  the demo runs every DAG in one process);
* the exit status, the machine's load average before and after, the commit.

Writes ``bench/demo_large.results.json``; ``bench/scale.py`` adds it to ``bench/REPORT.md`` (with
the commit it was measured on) and the README's benchmark block. It is a separate command because
``make bench`` (the three sizes) already takes most of the 20 minutes the issue allows it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "demo_large.results.json"
TARGET_S, TARGET_BYTES = 600.0, 4 * 1024**3
_STEP = re.compile(r"^(?:Seeding the demo CRM.* |Running (\S+)(?: \((.+)\))? )\.\.\.$")


def step_name(line: str) -> str | None:
    """The demo step a line of ``scripts.demo``'s output starts, if it starts one."""
    m = _STEP.match(line)
    if not m:
        return None
    if m.group(1) is None:
        return "seed"
    return m.group(1) + (f" ({m.group(2)})" if m.group(2) else "")


def step_seconds(stamped: list[tuple[float, str]], end: float) -> list[dict[str, Any]]:
    """Seconds per step, from (time, line) pairs: a step lasts until the next step or the end."""
    starts = [(t, name) for t, line in stamped if (name := step_name(line))]
    out = []
    for k, (t, name) in enumerate(starts):
        nxt = starts[k + 1][0] if k + 1 < len(starts) else end
        out.append({"step": name, "seconds": round(nxt - t, 1)})
    return out


def _load_avg() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def run(size: str, workdir: Path) -> dict[str, Any]:
    if workdir.exists():
        shutil.rmtree(workdir)
    (workdir / "data").mkdir(parents=True)
    env = dict(os.environ)
    env["SALESOPS_DATA_DIR"] = str(workdir / "data")
    env["SALESOPS_OUTPUT_DIR"] = str(workdir / "out")
    env.pop("SALESOPS_WAREHOUSE_URL", None)  # the demo's own default: DuckDB in the data folder
    load_before, commit = _load_avg(), _commit()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = workdir / "demo.log"
    stamped: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            ["make", "-C", str(ROOT), "demo", f"DEMO_SIZE={size}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            stamped.append((time.perf_counter() - t0, line.rstrip("\n")))
            fh.write(line)
        rc = proc.wait()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = next((m.group(1) for _, line in stamped if (m := re.match(r"^Done in (\d+) s\.", line))), None)
    return {
        "command": f"make demo DEMO_SIZE={size}",
        "commit": commit,
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "exit_status": rc,
        "completed": rc == 0 and done is not None,
        "wall_s": round(wall, 1),
        "cpu_s": round(
            (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            1,
        ),
        # ru_maxrss of RUSAGE_CHILDREN: the largest single reaped descendant, in KiB on Linux.
        "peak_bytes": after.ru_maxrss * 1024,
        "steps": step_seconds(stamped, wall),
        "load_before": load_before,
        "load_after": _load_avg(),
        "log_tail": [line for _, line in stamped[-5:]],
    }


def _verdict(res: dict[str, Any]) -> tuple[str, str]:
    """(what happened, met / not met) against: completes, <= 10 min, <= 4 GiB."""
    if not res["completed"]:
        return f"**did not complete** (exit status {res['exit_status']})", "**not met**"
    ok = res["wall_s"] <= TARGET_S and res["peak_bytes"] <= TARGET_BYTES
    return "completes", "met" if ok else "**not met**"


def readme_row(res: dict[str, Any] | None) -> str:
    """The README benchmark table's row (stage | wall | peak RSS | target | met)."""
    target = "completes, ≤ 10 min, ≤ 4 GiB"
    if not res:
        return f"| `make demo DEMO_SIZE=large` (not measured yet: `make bench-demo-large`) | — | — | {target} | — |"
    state, met = _verdict(res)
    return (
        f"| `make demo DEMO_SIZE=large`: {state} (`make bench-demo-large` on `{res.get('commit', '?')}`) | "
        f"{res['wall_s'] / 60:.1f} min | {res['peak_bytes'] / 1024**3:.2f} GiB | {target} | {met} |"
    )


def report_section(res: dict[str, Any] | None, head: str | None = None) -> list[str]:
    """The REPORT.md section for the large demo; says so when it was never measured."""
    lines = ["## `make demo DEMO_SIZE=large`", ""]
    if not res:
        return lines + [
            "Not measured yet: run `make bench-demo-large` (about 7-12 min on 2 cores); it writes "
            "`bench/demo_large.results.json`.",
            "",
        ]
    gib = res["peak_bytes"] / 1024**3
    state, met = _verdict(res)
    stale = (
        f" (measured on `{res['commit']}`, this report's checkout is `{head}`)"
        if head and res.get("commit") and head != res["commit"]
        else f" (measured on `{res.get('commit', '?')}`)"
    )
    lines += [
        "| command | result | wall | CPU | peak RSS (largest process) | target | met |",
        "|---|---|---|---|---|---|---|",
        f"| `{res['command']}` | {state} | {res['wall_s'] / 60:.1f} min | {res['cpu_s']:.0f} s | "
        f"{gib:.2f} GiB | completes, ≤ 10 min, ≤ 4 GiB | {met} |",
        "",
        f"Run by `make bench-demo-large` on {res['finished']} UTC{stale}; {res['machine']}; load "
        f"average {res['load_before']} before and {res['load_after']} after. Steps: "
        + ", ".join(f"{s['step']} {s['seconds']:.0f} s" for s in res["steps"])
        + ".",
        "",
    ]
    return lines


def load_results(path: Path = RESULTS) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="large")
    ap.add_argument("--workdir", default=str(ROOT / "bench" / "results" / "demo_large"))
    ap.add_argument("--results", default=str(RESULTS))
    args = ap.parse_args()
    res = run(args.size, Path(args.workdir))
    Path(args.results).write_text(json.dumps(res, indent=1) + "\n")
    print("\n".join(report_section(res)))
    if not res["completed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
