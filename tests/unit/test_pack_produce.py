"""report_packs' per-pack task: every slice of a pack in one process, a failing slice isolated."""

from __future__ import annotations

import pytest

from salesops.packs import tasks


def test_slices_are_grouped_per_pack_in_plan_order():
    jobs = [
        {"pack": "a", "scope_type": "all", "scope_value": "all"},
        {"pack": "b", "scope_type": "all", "scope_value": "all"},
        {"pack": "a", "scope_type": "region", "scope_value": "EMEA"},
    ]
    assert tasks.by_pack(jobs) == [
        {"pack": "a", "jobs": [jobs[0], jobs[2]]},
        {"pack": "b", "jobs": [jobs[1]]},
    ]


def test_a_failing_slice_does_not_stop_the_others_and_fails_the_task_naming_it(monkeypatch):
    calls: list[str] = []

    def render(job, conn_id):
        calls.append(f"render {job['scope_value']}")
        if job["scope_value"] == "APAC":
            raise ValueError("no KPI rows for APAC")
        return {"slice": job["scope_value"]}

    def check(rendered, gate, conn_id):
        calls.append(f"check {rendered['slice']}")
        return {"rendered": rendered}

    def deliver(checked, params, run_id, conn_id):
        calls.append(f"deliver {checked['rendered']['slice']} {run_id}")
        return {"published": True}

    monkeypatch.setattr(tasks, "render", render)
    monkeypatch.setattr(tasks, "check", check)
    monkeypatch.setattr(tasks, "deliver", deliver)
    group = {
        "pack": "p",
        "jobs": [{"pack": "p", "scope_type": "region", "scope_value": v} for v in ("AMER", "APAC", "EMEA")],
    }
    with pytest.raises(
        tasks.PackSlicesFailed, match=r"1 of 3 slices failed: p region=APAC: ValueError: no KPI rows"
    ):
        tasks.produce(group, {"passed": True}, {}, "run-1", "wh")
    assert calls == [
        "render AMER", "check AMER", "deliver AMER run-1",
        "render APAC",
        "render EMEA", "check EMEA", "deliver EMEA run-1",
    ]  # fmt: skip
    calls.clear()
    group["jobs"] = [group["jobs"][0]]
    assert tasks.produce(group, {"passed": True}, {}, "run-2", "wh") == [{"published": True}]


def test_the_slices_of_a_pack_share_one_warehouse_connection_look_up(monkeypatch):
    import salesops.warehouse.hook as hook

    looked_up: list[str] = []

    class FakeHook:
        def __init__(self, conn_id):
            looked_up.append(conn_id)
            self.warehouse = object()

    monkeypatch.setattr(hook, "WarehouseHook", FakeHook)
    seen: list[object] = []

    def step(*args):
        seen.append(tasks._warehouse(args[-1]))
        return {"step": len(seen)}

    for name in ("render", "check", "deliver"):
        monkeypatch.setattr(tasks, name, step)
    group = {"pack": "p", "jobs": [{"pack": "p", "scope_type": "team", "scope_value": v} for v in "abc"]}
    assert len(tasks.produce(group, {"passed": True}, {}, "run-1", "wh")) == 3
    assert looked_up == ["wh"] and len(seen) == 9 and len({id(w) for w in seen}) == 1
    # outside produce every call looks the connection up again (it may have changed)
    tasks._warehouse("wh")
    assert looked_up == ["wh", "wh"]
