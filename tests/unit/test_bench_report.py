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
