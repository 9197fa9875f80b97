"""Benchmark: render and check every slice of every pack (all audiences) on a built warehouse.

    # the demo's warehouse (make demo) or any data dir holding warehouse.duckdb with loaded staging,
    # a quality run and the KPI marts:
    PYTHONPATH=plugins:. .venv/bin/python bench/packs_render.py [--data-dir DIR] [--out DIR] \\
        [--packs weekly_pipeline_inspection,dq_scorecard] [--no-pdf] [--json figures.json]

Each slice runs as the ``report_packs`` task runs it (``render_pack`` + ``check_pack``; delivery is
not part of it: no SMTP, nothing written to the warehouse), except that the PDF and XLSX/CSV files
are laid out in this process, one slice after another, for the per-stage CPU (the task uses packs.yaml
``layout_processes`` worker processes: bench/scale.py measures that). Prints, per slice, wall and CPU seconds
and whether its checks passed; per pack the totals; the process's peak RSS (an upper bound for
every slice, since all slices run in this one process); and the CPU per stage (WeasyPrint PDF, SQL,
matplotlib charts, XLSX, CSV, email parts, the pack checks).

For bench/REPORT.md builders (``make bench``): call :func:`measure`, e.g.::

    from bench.packs_render import measure
    figures = measure(Path("data"))   # {"slices": [...], "packs": {...}, "max_slice_wall_s": ...,
                                      #  "peak_rss_mb": ..., "total_wall_s": ..., "stages": {...}}

or run the CLI with ``--json``. The files go to ``--out`` (default: a temp folder, removed).
Nothing here changes the warehouse, so it can run on the same warehouse any number of times.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]

_STAGES: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])


def _timed(owner: Any, name: str, stage: str) -> Callable[[], None]:
    """Accumulate wall/CPU seconds of ``owner.name`` under ``stage``; returns the undo."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t, c = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            e = _STAGES[stage]
            e[0] += time.perf_counter() - t
            e[1] += time.process_time() - c
            e[2] += 1

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, original)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(
    data_dir: Path | None = None,
    packs: list[str] | None = None,
    *,
    pdf: bool = True,
    out_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Render and check every slice of ``packs`` (default: all of packs.yaml) on ``data_dir``'s
    warehouse (default: the configured one); returns the figures (see the module docstring)."""
    from salesops.packs import charts, checks, layout, render
    from salesops.packs.config import load_packs
    from salesops.warehouse import Warehouse, core

    wh = Warehouse(f"duckdb:///{Path(data_dir) / 'warehouse.duckdb'}") if data_dir else Warehouse()
    specs = load_packs()
    names = packs or list(specs)
    formats = ("html", "pdf", "xlsx", "csv") if pdf else ("html", "xlsx", "csv")
    tmp = None if out_dir else Path(tempfile.mkdtemp(prefix="salesops-packs-bench-"))
    out = Path(out_dir or tmp)  # type: ignore[arg-type]
    _STAGES.clear()
    # The breakdown times the writers in this process: no layout processes here (packs.yaml
    # layout_processes is what report_packs uses; bench/scale.py measures the stage with them).
    own_processes = layout.processes
    layout.processes = lambda: 1  # type: ignore[assignment]
    undo = [
        lambda: setattr(layout, "processes", own_processes),
        _timed(render, "write_pdf", "pdf (WeasyPrint)"),
        _timed(render, "write_xlsx", "xlsx (openpyxl)"),
        _timed(render, "write_csvs", "csv"),
        _timed(render, "write_email_parts", "email parts"),
        _timed(render, "render_html", "html (Jinja)"),
        _timed(charts, "_png", "charts (matplotlib)"),
        _timed(core.Warehouse, "query_df", "sql"),
    ]
    slices: list[dict[str, Any]] = []
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        print_ = progress or (lambda _line: None)
        print_(checks.quality_gate(wh).reason)
        for name in names:
            spec = specs[name]
            for aud in spec.audiences:
                values = aud.values or [
                    str(v)
                    for v in wh.query_file(
                        "packs/scope_values.sql",
                        column={"region": "region", "team": "team", "owner": "id"}[aud.scope],
                    )["scope_value"]
                ]
                for value in values:
                    t, c = time.perf_counter(), time.process_time()
                    r = render.render_pack(
                        wh,
                        name,
                        aud.scope,
                        value,
                        formats=formats,
                        out_dir=out / name / f"{aud.scope}-{render.slug(value)}",
                    )
                    tc, cc = time.perf_counter(), time.process_time()
                    result = checks.check_pack(wh, r)
                    e = _STAGES["checks"]
                    e[0] += time.perf_counter() - tc
                    e[1] += time.process_time() - cc
                    e[2] += 1
                    row = {
                        "pack": name,
                        "scope": f"{aud.scope}={value}",
                        "wall_s": round(time.perf_counter() - t, 2),
                        "cpu_s": round(time.process_time() - c, 2),
                        "checks_passed": result.passed,
                        "rss_mb": round(_rss_mb()),
                    }
                    slices.append(row)
                    print_(
                        f"  {name:28s} {row['scope']:24s} {row['wall_s']:6.2f} s wall {row['cpu_s']:6.2f} s CPU"
                        f"  checks {'ok' if result.passed else 'FAILED: ' + '; '.join(result.failures)}"
                    )
    finally:
        for u in undo:
            u()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    per_pack: dict[str, dict[str, Any]] = {}
    for s in slices:
        p = per_pack.setdefault(
            s["pack"], {"slices": 0, "wall_s": 0.0, "cpu_s": 0.0, "max_slice_wall_s": 0.0}
        )
        p["slices"] += 1
        p["wall_s"] = round(p["wall_s"] + s["wall_s"], 2)
        p["cpu_s"] = round(p["cpu_s"] + s["cpu_s"], 2)
        p["max_slice_wall_s"] = max(p["max_slice_wall_s"], s["wall_s"])
    return {
        "warehouse": str(wh.path or wh),
        "opportunities": _count(wh, "staging.stg_crm__opportunity"),
        "pdf": pdf,
        "slices": slices,
        "packs": per_pack,
        "total_wall_s": round(time.perf_counter() - t0, 1),
        "total_cpu_s": round(time.process_time() - c0, 1),
        "max_slice_wall_s": max((s["wall_s"] for s in slices), default=None),
        "peak_rss_mb": round(_rss_mb()),
        "stages": {
            k: {"wall_s": round(v[0], 1), "cpu_s": round(v[1], 1), "calls": v[2]} for k, v in _STAGES.items()
        },
        "load_avg": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
    }


def _count(wh: Any, table: str) -> int | None:
    try:
        return int(wh.scalar(f"select count(*) from {table}"))
    except Exception:  # a warehouse without staging: the figure is simply not there
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data-dir", type=Path, help="folder holding warehouse.duckdb (default: the configured one)"
    )
    ap.add_argument("--packs", help="comma-separated packs (default: every pack of packs.yaml)")
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF (WeasyPrint)")
    ap.add_argument("--out", type=Path, help="keep the rendered files here (default: a temp folder, removed)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    fig = measure(
        args.data_dir,
        args.packs.split(",") if args.packs else None,
        pdf=not args.no_pdf,
        out_dir=args.out,
        progress=lambda line: print(line, flush=True),
    )
    for name, p in fig["packs"].items():
        print(
            f"{name}: {p['slices']} slices in {p['wall_s']:.1f} s wall, {p['cpu_s']:.1f} s CPU "
            f"(slowest slice {p['max_slice_wall_s']:.1f} s)"
        )
    print(
        f"total {fig['total_wall_s']} s wall, {fig['total_cpu_s']} s CPU for {len(fig['slices'])} slices "
        f"({fig['opportunities']} opportunities); slowest slice {fig['max_slice_wall_s']} s; "
        f"peak RSS {fig['peak_rss_mb']} MB; load average {fig['load_avg']} on {fig['cpus']} cores"
    )
    for stage, v in sorted(fig["stages"].items(), key=lambda kv: -kv[1]["cpu_s"]):
        print(f"  {stage:22s} {v['cpu_s']:7.1f} s CPU {v['wall_s']:7.1f} s wall  ({v['calls']} calls)")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
    # DuckDB's binding prints pages of harmless "leaked instance" lines at interpreter exit.
    sys.stdout.flush()
    os._exit(0)
