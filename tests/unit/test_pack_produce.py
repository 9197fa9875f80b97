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


class _Started:
    """What start_render returns: the slice, its files (here: nothing) still being laid out."""

    def __init__(self, calls: list[str], value: str, fail: str | None = None):
        self.calls, self.value, self.fail, self.jobs = calls, value, fail, []

    def result(self):
        self.calls.append(f"files {self.value}")
        if self.fail:
            raise RuntimeError(self.fail)
        return self

    def to_dict(self):
        return {"slice": self.value}


def test_a_failing_slice_does_not_stop_the_others_and_fails_the_task_naming_it(monkeypatch):
    calls: list[str] = []

    def start_render(job, conn_id):
        calls.append(f"render {job['scope_value']}")
        if job["scope_value"] == "APAC":
            raise ValueError("no KPI rows for APAC")
        return _Started(calls, job["scope_value"])

    def check(rendered, gate, conn_id):
        calls.append(f"check {rendered['slice']}")
        return {"rendered": rendered}

    def deliver(checked, params, run_id, conn_id):
        calls.append(f"deliver {checked['rendered']['slice']} {run_id}")
        return {"published": True}

    monkeypatch.setattr(tasks, "start_render", start_render)
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
    # each slice is rendered while the one before it is laid out, then checked and delivered
    assert calls == [
        "render AMER",
        "render APAC",
        "render EMEA", "files AMER", "check AMER", "deliver AMER run-1",
        "files EMEA", "check EMEA", "deliver EMEA run-1",
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

    def start_render(*args):
        step(*args)
        return _Started([], "x")

    monkeypatch.setattr(tasks, "start_render", start_render)
    for name in ("check", "deliver"):
        monkeypatch.setattr(tasks, name, step)
    group = {"pack": "p", "jobs": [{"pack": "p", "scope_type": "team", "scope_value": v} for v in "abc"]}
    assert len(tasks.produce(group, {"passed": True}, {}, "run-1", "wh")) == 3
    assert looked_up == ["wh"] and len(seen) == 9 and len({id(w) for w in seen}) == 1
    # outside produce every call looks the connection up again (it may have changed)
    tasks._warehouse("wh")
    assert looked_up == ["wh", "wh"]


def test_a_slice_whose_files_fail_is_named_in_plan_order_and_the_others_are_delivered(monkeypatch):
    """A file that cannot be laid out (an exception in a layout process) fails its slice with that
    exception; the failures are listed in plan order although slices overlap."""
    calls: list[str] = []
    monkeypatch.setattr(
        tasks,
        "start_render",
        lambda job, conn_id: _Started(
            calls, job["scope_value"], fail="disk full" if job["scope_value"] in "bd" else None
        ),
    )
    monkeypatch.setattr(tasks, "check", lambda rendered, gate, conn_id: {"rendered": rendered})
    monkeypatch.setattr(tasks, "deliver", lambda checked, params, run_id, conn_id: checked["rendered"])
    group = {"pack": "p", "jobs": [{"pack": "p", "scope_type": "team", "scope_value": v} for v in "abcd"]}
    with pytest.raises(
        tasks.PackSlicesFailed,
        match=r"^2 of 4 slices failed: p team=b: RuntimeError: disk full \| p team=d: RuntimeError: disk full$",
    ):
        tasks.produce(group, {"passed": True}, {}, "run-1", "wh")
    assert [c for c in calls if c.startswith("files")] == ["files a", "files b", "files c", "files d"]
