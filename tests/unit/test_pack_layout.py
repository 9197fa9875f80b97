"""The packs' layout processes (salesops.packs.layout): the PDF and XLSX/CSV files of a slice laid out
beside the task process, the same bytes as in it, and a failure there fails the slice by name."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from tests.unit.test_pack_speed import _view

from salesops.packs import layout, render
from salesops.packs.render import PackRenderError, PendingPack, RenderedPack


@pytest.fixture
def two_processes(monkeypatch):
    monkeypatch.setattr(layout, "processes", lambda: 2)
    yield
    layout.shutdown()


def _rendered(tmp_path: Path) -> RenderedPack:
    return RenderedPack(
        pack="p", title="P", scope_type="all", scope_value="all", scope_label="Company", period="2026-W45",
        as_of="2026-11-02 06:00", as_of_date="2026-11-02", generated_at=str(datetime(2026, 11, 2, 7)),
        work_dir=str(tmp_path), files={}, recipients=[], narrative=[], checks=[], sections=[],
    )  # fmt: skip


def test_layout_policy_is_validated_and_auto_means_the_usable_cores():
    from salesops.packs.config import layout_processes
    from salesops.policy.models.packs import PacksPolicy

    pack = {"sections": ["x"], "schedule": {"every": "day"}, "period": "day"}
    pack["audiences"] = [{"scope": "all", "recipients": ["a@example.com"]}]
    assert PacksPolicy.model_validate({"packs": {"p": pack}}).layout_processes == "auto"
    assert PacksPolicy.model_validate({"packs": {"p": pack}, "layout_processes": 1}).layout_processes == 1
    for bad in (0, "two", 2.5):
        with pytest.raises(ValueError, match="layout_processes"):
            PacksPolicy.model_validate({"packs": {"p": pack}, "layout_processes": bad})
    assert layout_processes() == len(os.sched_getaffinity(0))


def test_one_process_means_no_pool_the_job_runs_here(monkeypatch):
    monkeypatch.setattr(layout, "_POOL", None)  # another test of this worker process may have left one
    monkeypatch.setattr(layout, "processes", lambda: 1)
    assert layout.submit(os.getpid).result() == os.getpid()
    failed = layout.submit(int, "x")
    assert isinstance(failed.exception(), ValueError)
    assert layout._POOL is None


def test_a_pdf_laid_out_in_a_worker_is_the_pdf_the_task_process_lays_out(tmp_path, two_processes):
    html = render.render_html(_view())
    assert layout.submit(os.getpid).result() != os.getpid()
    got = layout.submit(render.pdf_file, html, tmp_path / "w.pdf").result()
    assert got == {"pdf": str(tmp_path / "w.pdf")}
    render.write_pdf(html, tmp_path / "here.pdf")
    assert (tmp_path / "w.pdf").read_bytes() == (tmp_path / "here.pdf").read_bytes()


def test_an_error_in_a_worker_fails_the_slice_with_that_error_and_no_manifest(tmp_path, two_processes):
    html = render.render_html(_view())
    missing = tmp_path / "no-such-folder" / "x.pdf"
    pending = PendingPack(
        _rendered(tmp_path),
        [("PDF", layout.submit(render.pdf_file, html, missing))],
        tmp_path / "x.manifest.json",
    )
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        pending.result()
    assert not (tmp_path / "x.manifest.json").exists()


def test_a_worker_that_dies_fails_its_slice_by_name_and_the_next_slice_gets_a_new_pool(
    tmp_path, two_processes
):
    pending = PendingPack(
        _rendered(tmp_path), [("XLSX/CSV files", layout.submit(os._exit, 9))], tmp_path / "m.json"
    )
    with pytest.raises(PackRenderError, match="process laying out the XLSX/CSV files ended abruptly"):
        pending.result()
    assert not (tmp_path / "m.json").exists()
    html = render.render_html(_view())
    assert layout.submit(render.pdf_file, html, tmp_path / "next.pdf").result() == {
        "pdf": str(tmp_path / "next.pdf")
    }


def test_the_manifest_is_written_once_every_file_is_there(tmp_path, two_processes):
    html = render.render_html(_view())
    pending = PendingPack(
        _rendered(tmp_path),
        [("PDF", layout.submit(render.pdf_file, html, tmp_path / "p.pdf"))],
        tmp_path / "p.manifest.json",
    )
    r = pending.result()
    assert list(r.files) == ["pdf", "manifest"] and (tmp_path / "p.pdf").is_file()
    assert pending.result() is r  # waited for once
    assert '"pdf"' in (tmp_path / "p.manifest.json").read_text()


def test_a_chart_drawn_in_a_worker_is_the_png_drawn_here(two_processes):
    from salesops.packs import charts
    from salesops.packs.model import Chart

    steps = [("Starting pipeline", 1200.0, True), ("New", 300.0, False), ("Lost", -250.0, False)]
    chart = Chart("Movement", drawing=layout.submit(charts.waterfall, steps, title="EMEA"))
    assert chart.drawn().png == charts.waterfall(steps, title="EMEA") and chart.drawing is None
    bars = (["AMER", "EMEA"], [1.2, None], 3.0)
    assert Chart("c", drawing=layout.submit(charts.coverage_bars, *bars)).drawn().png == charts.coverage_bars(
        *bars
    )


def _submit_in_daemon(out) -> None:  # noqa: ANN001
    try:
        out.put(("ok", layout.submit(os.getpid).result(), os.getpid(), layout._POOL is None))
    except BaseException as exc:  # the Celery failure was an AssertionError from multiprocessing
        out.put(("error", repr(exc), os.getpid(), layout._POOL is None))


def test_a_daemonic_process_lays_the_files_out_itself(monkeypatch):
    """A Celery prefork worker's task process is daemonic and may not start children
    ("daemonic processes are not allowed to have children"): the layout runs in it instead."""
    import multiprocessing

    monkeypatch.setattr(layout, "_POOL", None)
    monkeypatch.setattr(layout, "processes", lambda: 2)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_submit_in_daemon, args=(out,), daemon=True)
    child.start()
    status, ran_in, child_pid, no_pool = out.get(timeout=60)
    child.join(timeout=60)
    assert (status, ran_in, no_pool) == ("ok", child_pid, True)
