"""Fault injection for the loader, kept out of the production library.

:func:`crash_load_after` makes ``salesops.ingest.load.load_batch`` raise
``RuntimeError("simulated crash after <step>")`` at a point inside its apply transaction, by
wrapping the module's statement executor (``_execute``) for the duration of a ``with`` block. The
production code has no hook for it; the steps are named by the SQL file they follow:

=============  ===================================================================================
``raw``        after ``load/insert_raw.sql``
``quarantine`` after ``load/quarantine.sql``
``merge``      after ``load/merge_staging.sql``
``deletes``    after the deletes, id reconciliation and formula refresh (whichever the batch
               needs): just before ``load/finish_batch.sql`` writes the audit row and watermark
=============  ===================================================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

# step -> (SQL file, crash before or after it runs)
CRASH_POINTS: dict[str, tuple[str, str]] = {
    "raw": ("load/insert_raw.sql", "after"),
    "quarantine": ("load/quarantine.sql", "after"),
    "merge": ("load/merge_staging.sql", "after"),
    "deletes": ("load/finish_batch.sql", "before"),
}


@contextlib.contextmanager
def crash_load_after(step: str) -> Iterator[list[str]]:
    """Inside the block, every ``load_batch`` crashes after ``step`` (see the module docstring).

    Yields the SQL files the loader ran while patched (so a test can check the crash point was
    actually reached inside the apply phase).
    """
    from salesops.ingest import load

    if step not in CRASH_POINTS:
        raise ValueError(f"unknown load step {step!r}; expected one of {sorted(CRASH_POINTS)}")
    relpath_at, when = CRASH_POINTS[step]
    original = load._execute
    ran: list[str] = []

    def execute(conn: Any, relpath: str, script: str, params: dict[str, Any], *, dml_only: bool) -> None:
        if relpath == relpath_at and when == "before":
            raise RuntimeError(f"simulated crash after {step}")
        original(conn, relpath, script, params, dml_only=dml_only)
        ran.append(relpath)
        if relpath == relpath_at:
            raise RuntimeError(f"simulated crash after {step}")

    with mock.patch.object(load, "_execute", execute):
        yield ran
