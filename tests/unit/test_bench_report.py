"""bench/scale.py's report says which issue-17 target is not met and why (from a results dict)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GIB = 1024**3


@pytest.fixture(scope="module")
def scale():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _dag(wall: float, peak_gib: float, tasks=(), loads=()) -> dict:
    return {
        "wall_s": wall,
        "seconds": wall - 2,
        "cpu_s": wall * 1.4,
        "peak_bytes": int(peak_gib * GIB),
        "rows": 14_000_000,
        "state": "success",
        "tasks": [{"task": t, "seconds": s} for t, s in tasks],
        "loads": [{"object": o, "seconds": s, "batch": {"rows_read": 1}} for o, s in loads],
    }


def test_not_met_targets_are_listed_with_the_measured_breakdown_and_the_cause(scale, tmp_path):
    res = {
        "size": 1_000_000,
        "full": {
            "crm_extract_load": _dag(
                90,
                1.5,
                tasks=[("load", 30.0), ("extract", 20.0)],
                loads=[("lead", 25.0), ("opportunity", 8.0)],
            ),
            "crm_data_quality": _dag(55, 1.9),  # met: not listed
            "kpi_transforms": _dag(31, 1.2, tasks=[("build_marts", 20.0)]),
            "report_packs": _dag(150, 1.1),
        },
    }
    lines = scale._not_met_section(res)
    text = "\n".join(lines)
    assert "**Targets not met at this size, and why:**" in text
    load = next(x for x in lines if x.startswith("- **full extract + load**"))
    assert "90.0 s" in load and "`load` 30.0 s, `extract` 20.0 s (of 2 tasks, 50 s of task time)" in load
    assert "Loads: lead 25.0 s, opportunity 8.0 s." in load and "Why: " in load
    kpi = next(x for x in lines if x.startswith("- **KPI models**"))
    assert "`build_marts` 20.0 s" in kpi
    chain = next(x for x in lines if x.startswith("- **whole chain"))
    assert (
        "By stage: full extract + load 90 s, quality 55 s, KPI models 31 s, packs (all slices) 150 s."
        in chain
    )
    assert not any(x.startswith("- **quality**") for x in lines)

    report = tmp_path / "REPORT.md"
    scale.write_report([res], {}, report, tmp_path / "scale.png")
    assert "- **full extract + load**: 90.0 s" in report.read_text()


def test_a_size_that_meets_every_target_has_no_section(scale):
    res = {
        "size": 1_000_000,
        "full": {d: _dag(20, 1.0) for d in scale.CHAIN},
    }
    assert scale._not_met_section(res) == []


@pytest.fixture(scope="module")
def demo_large(scale):
    return scale.demo_large


def test_large_demo_steps_are_timed_from_the_demo_output(demo_large):
    stamped = [
        (0.0, "mkdir -p .airflow"),
        (1.0, "Seeding the demo CRM (size=large, seed=42) ..."),
        (41.0, "Demo CRM at data/demo_crm.duckdb; clock 2026-11-02 06:00 UTC"),
        (42.0, "Running crm_extract_load (full load) ..."),
        (130.0, "Running demo_crm_simulate (7 days of activity) ..."),
        (190.0, "Running crm_extract_load (incremental) ..."),
        (230.0, "Running crm_data_quality ..."),
        (360.0, "Done in 359 s."),
    ]
    steps = demo_large.step_seconds(stamped, end=361.0)
    assert steps == [
        {"step": "seed", "seconds": 41.0},
        {"step": "crm_extract_load (full load)", "seconds": 88.0},
        {"step": "demo_crm_simulate (7 days of activity)", "seconds": 60.0},
        {"step": "crm_extract_load (incremental)", "seconds": 40.0},
        {"step": "crm_data_quality", "seconds": 131.0},
    ]


def _demo(completed=True, wall=430.0, peak_gib=3.4, rc=0):
    return {
        "command": "make demo DEMO_SIZE=large",
        "commit": "abc1234",
        "finished": "2026-12-07 18:05",
        "machine": "x86_64, 2 cores",
        "exit_status": rc,
        "completed": completed,
        "wall_s": wall,
        "cpu_s": 520.0,
        "peak_bytes": int(peak_gib * GIB),
        "steps": [{"step": "seed", "seconds": 41.0}],
        "load_before": "0.9",
        "load_after": "1.2",
    }


def test_large_demo_section_says_met_only_when_it_completes_within_time_and_memory(
    demo_large, scale, tmp_path
):
    assert "| met |" in "\n".join(demo_large.report_section(_demo()))
    assert "**not met**" in "\n".join(demo_large.report_section(_demo(wall=700.0)))
    assert "**not met**" in "\n".join(demo_large.report_section(_demo(peak_gib=4.5)))
    failed = "\n".join(demo_large.report_section(_demo(completed=False, rc=2)))
    assert "**did not complete** (exit status 2)" in failed and "**not met**" in failed
    assert "measured on `abc1234`, this report's checkout is `def5678`" in "\n".join(
        demo_large.report_section(_demo(), head="def5678")
    )
    assert "Not measured yet" in "\n".join(demo_large.report_section(None))
    row = demo_large.readme_row(_demo())
    assert row.startswith("| `make demo DEMO_SIZE=large`: completes") and "7.2 min | 3.40 GiB" in row
    assert row.endswith("| met |")


def test_the_incremental_day_reports_its_floor_before_quality_kpis_and_packs(scale):
    full = {d: _dag(w, 1.0) for d, w in zip(scale.CHAIN, (90, 140, 35, 75), strict=True)}
    inc = {
        d: dict(_dag(w, 1.0), airflow_start_s=2.5)
        for d, w in zip(scale.CHAIN, (23, 128, 29, 73), strict=True)
    }
    text = scale._incremental_floor(full, inc)
    # 23 s of incremental load (its own start included) + 3 x 2.5 s of the other DAGs' starts = 30.5 s
    # of a 340 s full chain
    assert (
        "incremental extract + load (23 s) plus the other 3 DAG processes' Airflow start (8 s): 30 s, 9%"
        in text
    )
    assert text.endswith("under the 10 % target, with little room for the rest.")
    slow = dict(inc, crm_extract_load=dict(inc["crm_extract_load"], wall_s=40))
    assert scale._incremental_floor(full, slow).endswith("that floor alone is over the 10 % target.")
    assert scale._incremental_floor(full, {}) == ""
