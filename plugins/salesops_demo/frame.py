"""A mutable table for the simulation: O(1) cell reads/writes and appends on million-row tables.

The simulation used to keep Opportunity and Lead as pandas DataFrames and write cells with
``df.at[i, col] = v`` and append rows with ``df.loc[len(df)] = row``. At 1 M opportunities and
2 M leads both are O(rows) per call (an Arrow-backed string column is rebuilt on every cell
write; an enlarging ``loc`` copies the whole frame), so a simulated week never finished.

:class:`Rows` keeps the loaded DataFrame read-only, moves a column to a numpy array the first
time one of its cells is written, and keeps appended rows as dicts. :meth:`Rows.frame` rebuilds a
DataFrame (the original dtypes) of the selected rows for the write-back, so what lands in DuckDB
is the same as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


class _At:
    def __init__(self, rows: Rows):
        self._rows = rows

    def __getitem__(self, key: tuple[int, str]) -> Any:
        return self._rows.get(key[0], key[1])

    def __setitem__(self, key: tuple[int, str], value: Any) -> None:
        self._rows.set(key[0], key[1], value)


class Rows:
    """The rows of one object: the loaded frame (read-only), written columns, appended rows."""

    def __init__(self, df: pd.DataFrame, cached: tuple[str, ...] = ()):
        self._df = df.reset_index(drop=True)
        self.columns = list(self._df.columns)
        self.dtypes = self._df.dtypes.to_dict()
        self.n0 = len(self._df)
        self._cols: dict[str, np.ndarray] = {}  # written (or cached) columns of the loaded rows
        self._src = {c: self._df[c] for c in self.columns}
        self.appended: list[dict[str, Any]] = []
        self.at = _At(self)
        for c in cached:
            self._own(c)

    def __len__(self) -> int:
        return self.n0 + len(self.appended)

    def _own(self, col: str) -> np.ndarray:
        arr = self._cols.get(col)
        if arr is None:
            s = self._src[col]
            arr = s.to_numpy(dtype=object) if s.dtype.kind not in "fbiuM" else s.to_numpy(copy=True)
            self._cols[col] = arr
        return arr

    def get(self, i: int, col: str) -> Any:
        if i >= self.n0:
            return self.appended[i - self.n0].get(col)
        arr = self._cols.get(col)
        if arr is not None:
            v = arr[i]
            return pd.Timestamp(v) if arr.dtype.kind == "M" and not np.isnat(v) else v
        return self._src[col].iat[i]

    def set(self, i: int, col: str, value: Any) -> None:
        if i >= self.n0:
            self.appended[i - self.n0][col] = value
            return
        arr = self._own(col)
        if arr.dtype.kind == "M" and _missing(value):
            value = np.datetime64("NaT")
        arr[i] = value

    def row(self, i: int) -> dict[str, Any]:
        """Every column of row ``i`` (what ``df.loc[i].to_dict()`` gave)."""
        if i >= self.n0:
            return {c: self.appended[i - self.n0].get(c) for c in self.columns}
        return {c: self.get(i, c) for c in self.columns}

    def append(self, row: dict[str, Any]) -> int:
        self.appended.append(dict(row))
        return len(self) - 1

    def column(self, col: str) -> np.ndarray:
        """The whole column (loaded + appended rows) as a numpy object/typed array."""
        base = self._cols[col] if col in self._cols else self._src[col].to_numpy(dtype=object)
        if not self.appended:
            return base
        tail = np.empty(len(self.appended), dtype=object)
        tail[:] = [r.get(col) for r in self.appended]
        return np.concatenate([base.astype(object, copy=False), tail])

    def notna(self, col: str) -> np.ndarray:
        return ~pd.isna(self.column(col))

    def frame(self, mask: np.ndarray) -> pd.DataFrame:
        """The selected rows as a DataFrame with the loaded frame's dtypes."""
        mask = np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(mask[: self.n0])
        base = self._df.iloc[idx].copy()
        for c, arr in self._cols.items():
            base[c] = pd.Series(arr[idx], index=base.index).astype(self.dtypes[c])
        tail = [self.appended[j] for j in np.flatnonzero(mask[self.n0 :])]
        if not tail:
            return base.reset_index(drop=True)
        app = pd.DataFrame({c: pd.Series([r.get(c) for r in tail], dtype=object) for c in self.columns})
        for c in self.columns:
            try:
                app[c] = app[c].astype(self.dtypes[c])
            except (TypeError, ValueError):  # e.g. a missing value in an integer column: DuckDB casts
                pass
        if base.empty:
            return app
        return pd.concat([base, app], ignore_index=True)


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
