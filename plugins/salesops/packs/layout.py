"""Worker processes that lay out pack files (PDF, XLSX + CSV) beside the pack's task process.

A slice's files are made from plain values - the finished HTML for the PDF, the view and the
sections' rows for the XLSX and CSV files - so they need neither the warehouse nor the task's
state; so are the charts (matplotlib, drawn from a few lists of numbers). While workers lay out one
slice's files and draw the next one's charts, the task process queries the next slice:
the report_packs stage then uses every core instead of one (issue 17). packs.yaml
``layout_processes`` sizes the pool ("auto" = the cores this process may run on; 1 = no pool: the
task process writes every file itself, as before).

Usage::

    from salesops.packs import layout
    future = layout.submit(write_pdf, html, path)   # runs in a worker, or here when the pool is off
    future.result()                                 # the worker's exception re-raised as it was

The pool lives as long as the process (every pack a ``dag.test()`` run produces shares it; a worker
starts in ~1 CPU-s) and is shut down at exit or by :func:`shutdown`. Workers are ``spawn``-ed:
small fresh interpreters (no copy of the task process's memory) that end when the task process
ends, however it ends.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

_POOL: ProcessPoolExecutor | None = None
_LOCK = threading.Lock()


def processes() -> int:
    """The layout processes packs.yaml asks for (1 = no pool)."""
    from salesops.packs.config import layout_processes

    return layout_processes()


_NOTED_DAEMONIC = False


def _note_daemonic() -> None:
    global _NOTED_DAEMONIC
    if not _NOTED_DAEMONIC:
        _NOTED_DAEMONIC = True
        log.info(
            "this process is daemonic (e.g. a Celery worker's): pack files are laid out in it, without layout processes"
        )


def _end_with_parent() -> None:
    """Worker initializer: exit when the task process is gone (an ``os._exit`` skips the pool's
    shutdown, and a spawned worker holds its own end of the job queue, so it would wait forever)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(0)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


@contextmanager
def _without_main_script() -> Iterator[None]:
    """``spawn`` prepares a worker by running the parent's ``__main__`` script again; under Airflow
    that script is the ``airflow`` command (importing Airflow costs ~3.5 CPU-s per worker) and the
    layout needs nothing of it. A module without a file is not re-run."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _pool(workers: int) -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_end_with_parent
        )
    return _POOL


def submit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
    """Run ``fn(*args, **kwargs)`` in a layout process (``fn`` and the arguments must pickle: a module-level
    function and plain values); without a pool, right here. The future holds the result or the
    exception ``fn`` raised."""
    workers = processes()
    if workers > 1 and multiprocessing.current_process().daemon:
        # A daemonic process may not start children (a Celery prefork worker's task process is
        # one): the files are laid out here, as with layout_processes: 1.
        _note_daemonic()
        workers = 1
    if workers <= 1:
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as exc:  # the caller's .result() raises it, as with a worker
            done.set_exception(exc)
        return done
    global _POOL
    with _LOCK, _without_main_script():
        try:
            return _pool(workers).submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            # A worker died (killed, e.g. out of memory): the slices it had fail naming the cause;
            # the next ones get a new pool.
            log.warning("a pack layout process died; starting a new pool")
            broken, _POOL = _POOL, None
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
            return _pool(workers).submit(fn, *args, **kwargs)


def shutdown() -> None:
    """Stop the layout processes (waiting for their jobs); the next :func:`submit` starts new ones."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True)
