"""Keep the DuckDB warehouse open for a block of pack queries.

The warehouse engine opens a new connection per statement (NullPool, so the file stays unlocked
between operations for other processes). Opening a DuckDB file loads its whole catalog: on the
small demo that is ~120 ms of CPU per statement, against ~11 ms for the statement itself, and a
pack slice runs ~15 statements to render, one to check and ~6 to deliver. While one connection
to the file stays open, DuckDB's instance cache makes every further connection of this process
to the same file (any :class:`~salesops.warehouse.core.Warehouse` object with the same URL) reuse
the loaded database: so the pack code keeps one open around each database-bound step of a slice
(building the sections, checking, delivering) and lets go of the file while it lays out the
PDF/XLSX, when another process (a second pack's task, the console) may take it.

On Snowflake (or an in-memory DuckDB) this is a no-op: every connect is a session there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salesops.warehouse.core import Warehouse


@contextmanager
def kept_open(wh: Warehouse) -> Iterator[None]:
    """Hold one connection to ``wh``'s DuckDB file for the block (waits for another process's lock
    like every warehouse connection)."""
    if wh.dialect != "duckdb" or wh.path is None:
        yield
        return
    with wh.session():
        yield
