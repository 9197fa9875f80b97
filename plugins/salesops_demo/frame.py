"""A mutable view of a million-row table for the simulation: O(1) cell reads/writes and appends.

The simulation used to keep Opportunity and Lead as pandas DataFrames and write cells with
``df.at[i, col] = v`` and append rows with ``df.loc[len(df)] = row``. At 1 M opportunities and
2 M leads both are O(rows) per call, so a simulated week never finished. Holding the whole tables
as DataFrames (then as read-only frames plus written columns) still cost 5 GB at 1 M.

:class:`Rows` holds only what the daily events read: a few loaded columns as numpy arrays (for
every row, or only for the rows in ``loaded``: closed deals are never touched), the cells the run
wrote (per column, with a mask), appended rows as dicts, and whole rows fetched on demand for the
few records an event copies. The write-back updates the written cells of the touched rows
(:meth:`Rows.updates`) and inserts the appended ones (:meth:`Rows.appended_frame`); every other
cell stays as it is in the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

# pandas dtype of a DuckDB column type, for the frames written back (what DuckDB's .df() gives)
_PANDAS_DTYPES = {
    "VARCHAR": "str",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "BOOLEAN": "bool",
    "DATE": "datetime64[us]",
    "TIMESTAMP": "datetime64[us]",
}


def pandas_dtype(sql_type: str) -> str:
    """The pandas dtype DuckDB gives a column of this type (DECIMAL reads as float64)."""
    return "float64" if sql_type.startswith("DECIMAL") else _PANDAS_DTYPES.get(sql_type, "object")


class _At:
    def __init__(self, rows: Rows):
        self._rows = rows

    def __getitem__(self, key: tuple[int | np.integer[Any], str]) -> Any:
        return self._rows.get(int(key[0]), key[1])

    def __setitem__(self, key: tuple[int | np.integer[Any], str], value: Any) -> None:
        self._rows.set(int(key[0]), key[1], value)


class Rows:
    """The rows of one object: loaded columns, written cells, appended rows, rows fetched on demand.

    Args:
        schema: every column of the table and its DuckDB type, in table order.
        cols: the loaded columns, one numpy array per column, one value per loaded row (Id order).
        n0: number of loaded rows.
        loaded: which rows hold values in ``cols`` (None = all); reading another row's loaded
            column is a bug in the simulation, not a missing value, and raises.
        fetch: ``fetch(indexes)`` -> every column of those loaded rows as stored, one dict per row.
    """

    def __init__(
        self,
        schema: dict[str, str],
        cols: dict[str, np.ndarray],
        n0: int,
        loaded: np.ndarray | None = None,
        fetch: Callable[[np.ndarray], list[dict[str, Any]]] | None = None,
    ):
        self.schema = dict(schema)
        self.columns = list(schema)
        self.n0 = n0
        self._cols = cols
        self._loaded = loaded
        self._fetch = fetch
        self._written: dict[str, np.ndarray] = {}  # column -> mask of the loaded rows written
        self._values: dict[str, np.ndarray] = {}  # column -> written values (object array)
        self._fetched: dict[int, dict[str, Any]] = {}
        self.appended: list[dict[str, Any]] = []
        self.at = _At(self)

    def __len__(self) -> int:
        return self.n0 + len(self.appended)

    def get(self, i: int, col: str) -> Any:
        if i >= self.n0:
            return self.appended[i - self.n0].get(col)
        w = self._written.get(col)
        if w is not None and w[i]:
            return self._values[col][i]
        arr = self._cols.get(col)
        if arr is not None:
            if self._loaded is not None and not self._loaded[i]:
                raise RuntimeError(f"row {i} was not loaded for the simulation (reading {col})")
            return arr[i]
        return self._stored_row(i)[col]

    def set(self, i: int, col: str, value: Any) -> None:
        if i >= self.n0:
            self.appended[i - self.n0][col] = value
            return
        if col not in self._written:
            self._written[col] = np.zeros(self.n0, dtype=bool)
            self._values[col] = np.empty(self.n0, dtype=object)
        self._written[col][i] = True
        self._values[col][i] = value

    def prefetch(self, idx: Sequence[int]) -> None:
        """Fetch the stored rows of these (loaded) indexes in one query."""
        todo = [int(i) for i in idx if int(i) < self.n0 and int(i) not in self._fetched]
        if not todo:
            return
        if self._fetch is None:
            raise RuntimeError("these rows cannot be fetched")
        for i, row in zip(todo, self._fetch(np.array(todo, dtype=np.int64)), strict=True):
            self._fetched[i] = row

    def _stored_row(self, i: int) -> dict[str, Any]:
        if i not in self._fetched:
            self.prefetch([i])
        return self._fetched[i]

    def row(self, i: int) -> dict[str, Any]:
        """Every column of row ``i`` as the run sees it (stored values with the run's writes)."""
        if i >= self.n0:
            return {c: self.appended[i - self.n0].get(c) for c in self.columns}
        out = dict(self._stored_row(i))
        for col, w in self._written.items():
            if w[i]:
                out[col] = self._values[col][i]
        return out

    def append(self, row: dict[str, Any]) -> int:
        self.appended.append(dict(row))
        return len(self) - 1

    def column(self, col: str) -> np.ndarray:
        """A loaded column (every row loaded) with the appended rows, as a numpy object array."""
        if self._loaded is not None:
            raise RuntimeError(f"{col} is loaded for some rows only")
        base = self._cols[col]
        if not self.appended:
            return base
        tail = np.empty(len(self.appended), dtype=object)
        tail[:] = [r.get(col) for r in self.appended]
        return np.concatenate([base.astype(object, copy=False), tail])

    def updates(self, mask: np.ndarray) -> tuple[list[str], pd.DataFrame]:
        """The written cells of the selected loaded rows: (written columns, frame).

        The frame has Id, per written column its values (the table's pandas dtype) and a boolean
        ``w_<n>`` (n = the column's place in the list) saying which rows wrote it.
        """
        mask = np.asarray(mask, dtype=bool)[: self.n0]
        idx = np.flatnonzero(mask)
        written = [c for c in self.columns if c in self._written and self._written[c][idx].any()]
        frame: dict[str, Any] = {"Id": pd.Series([self.get(int(i), "Id") for i in idx], dtype=object)}
        for n, col in enumerate(written):
            w = self._written[col][idx]
            vals = self._values[col][idx]
            vals[~w] = None
            frame[col] = _as_dtype(pd.Series(vals, dtype=object), self.schema[col])
            frame[f"w_{n}"] = w
        return written, pd.DataFrame(frame)

    def appended_frame(self, mask: np.ndarray) -> pd.DataFrame:
        """The selected appended rows, every column in the table's pandas dtype where it fits."""
        mask = np.asarray(mask, dtype=bool)
        tail = [self.appended[j] for j in np.flatnonzero(mask[self.n0 :])]
        app = pd.DataFrame({c: pd.Series([r.get(c) for r in tail], dtype=object) for c in self.columns})
        for c in self.columns:
            try:
                app[c] = app[c].astype(pandas_dtype(self.schema[c]))
            except (TypeError, ValueError):  # e.g. a missing value in an integer column: DuckDB casts
                pass
        return app


def _as_dtype(values: pd.Series, sql_type: str) -> pd.Series:
    dtype = pandas_dtype(sql_type)
    if dtype == "bool":  # a row that did not write the column holds None (its w_<n> flag is false)
        return values.map(lambda v: bool(v) if v is not None else False).astype(bool)
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


class Growing:
    """Parallel per-row numpy arrays with amortised O(1) append (views stay exact-length)."""

    def __init__(self, owner: Any, names: tuple[str, ...]):
        self._owner = owner
        self._names = names
        self._buf = {n: getattr(owner, n) for n in names}
        self._n = len(self._buf[names[0]])

    def append(self, **values: Any) -> None:
        n = self._n
        for name in self._names:
            buf = self._buf[name]
            if len(buf) <= n:
                new = np.empty(max(16, 2 * len(buf)), dtype=buf.dtype)
                new[:n] = buf[:n]
                self._buf[name] = buf = new
            buf[n] = values[name]
        self._n = n + 1
        for name in self._names:
            setattr(self._owner, name, self._buf[name][: self._n])
