"""Data rows of a pack's XLSX sheet written as XlsxWriter writes them, without its per-cell calls.

XlsxWriter's ``write_row`` costs ~20 µs a cell (type dispatch, a named tuple per cell, an
attribute list and three format calls when the row is flushed): 14.5 s for the 1 M demo's
100,000-row exception sheet. In ``constant_memory`` mode a row goes to the worksheet's temp file
as soon as the next row starts, so :func:`write_rows` writes each row's ``<row>`` XML straight to
that file, text for text what XlsxWriter would have written for the same values (the unit test
compares the sheet XML byte for byte), and keeps the sheet's dimensions and row cursor as
XlsxWriter keeps them. A value it does not handle (an infinite float, text over 16,383
characters, another type) sends that one row through ``write_row``; a worksheet not in
``constant_memory`` mode, with row formats or non-default row heights takes ``write_row`` for
every row.

The cells are the plain values of :func:`salesops.packs.render._table_cells`: ``str`` (empty =
no cell), ``None`` (no cell), ``bool``, ``int``, ``float``, ``datetime``/``date`` (a serial number
with the column's number format).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Sequence
from typing import Any

# The characters XlsxWriter rewrites as _xHHHH_ (and an existing _xHHHH_ it escapes): rare in CRM
# text, so one search decides whether its escaping function runs at all.
_CONTROL = re.compile(r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_DATES = (_dt.datetime, _dt.date)
_EPOCH = _dt.datetime(1899, 12, 31)  # Excel's (1900 date system)


def _fast_ok(ws: Any) -> bool:
    """Whether this worksheet's rows are written as :func:`write_rows` writes them."""
    return bool(
        getattr(ws, "constant_memory", False)
        and not getattr(ws, "row_info", True)
        and not getattr(ws, "comments", True)
        and getattr(ws, "excel_version", None) == 2007
        and getattr(ws, "default_row_height", None) == getattr(ws, "original_row_height", 0)
        and not getattr(ws, "write_handlers", True)
        and not getattr(ws, "strings_to_formulas", True)
        and not getattr(ws, "strings_to_urls", True)
        and not getattr(ws, "strings_to_numbers", True)
        and hasattr(ws, "_write_single_row")
        and hasattr(ws, "fh")
    )


class _Cells:
    """One worksheet's cell XML, column by column (see the module docstring)."""

    def __init__(self, ws: Any, ncols: int) -> None:
        from xlsxwriter.utility import xl_col_to_name
        from xlsxwriter.xmlwriter import XMLwriter

        self.escape_control = XMLwriter._escape_control_characters
        self.convert_date = ws._convert_date_time
        self.letters = [xl_col_to_name(c) for c in range(ncols)]
        # A cell's ` s="N"` comes from its column's format, its xf index taken on first use as
        # XlsxWriter takes it (the workbook numbers formats in the order they are first written).
        self.styles: list[str | None] = [None] * ncols
        self.formats = [getattr(ws.col_info.get(c), "column_format", None) for c in range(ncols)]
        self.date_format = ws.default_date_format
        self.date_style: str | None = None
        self.strmax_half = ws.xls_strmax // 2
        self.fast_dates = not ws.date_1904

    def style(self, c: int) -> str:
        s = self.styles[c]
        if s is None:
            f = self.formats[c]
            s = self.styles[c] = "" if f is None else f' s="{f._get_xf_index()}"'
        return s

    def row(self, r: str, values: Sequence[Any]) -> tuple[list[str], int, int] | None:
        """The ``<c>`` elements of one row (row number ``r`` as text) with its first and last
        column, or None when a value needs XlsxWriter's own path."""
        cells: list[str] = []
        first = last = -1
        letters, style = self.letters, self.style
        for c, v in enumerate(values):
            kind = type(v)
            if kind is str:
                if not v:
                    continue
                text = self._text(letters[c] + r, style(c), v)
                if text is None:
                    return None
                cells.append(text)
            elif v is None:
                continue
            elif kind is int or kind is float:
                if kind is float and (math.isnan(v) or math.isinf(v)):
                    return None
                cells.append(f'<c r="{letters[c]}{r}"{style(c)}><v>{v:.16G}</v></c>')
            elif kind is bool:
                cells.append(f'<c r="{letters[c]}{r}"{style(c)} t="b"><v>{1 if v else 0}</v></c>')
            elif kind is _dt.datetime and v.tzinfo is None and v.year > 1900 and self.fast_dates:
                # XlsxWriter's _datetime_to_excel_datetime for a naive date time after 1900, the
                # same float operations in the same order: its serial number, bit for bit
                d = v - _EPOCH
                n = d.days + (float(d.seconds) + float(d.microseconds) / 1e6) / 86400 + 1
                cells.append(f'<c r="{letters[c]}{r}"{self._date_style(c)}><v>{n:.16G}</v></c>')
            elif kind in _DATES:
                cells.append(
                    f'<c r="{letters[c]}{r}"{self._date_style(c)}><v>{self.convert_date(v):.16G}</v></c>'
                )
            else:
                return None
            if first < 0:
                first = c
            last = c
        return cells, first, last

    def _date_style(self, c: int) -> str:
        if self.date_format is None:
            return self.style(c)
        if self.date_style is None:
            self.date_style = f' s="{self.date_format._get_xf_index()}"'
        return self.date_style

    def _text(self, ref: str, style: str, v: str) -> str | None:
        if len(v) > self.strmax_half:
            return None  # may need XlsxWriter's truncation to Excel's cell limit
        if ("_x" in v or not v.isprintable()) and _CONTROL.search(v):
            v = self.escape_control(v)
        if v.startswith("<r>") and v.endswith("</r>"):
            return f'<c r="{ref}"{style} t="inlineStr"><is>{v}</is></c>'
        t = ' xml:space="preserve"' if v[0].isspace() or v[-1].isspace() else ""
        if "&" in v or "<" in v or ">" in v:
            v = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{t}>{v}</t></is></c>'


def write_rows(ws: Any, first_row: int, rows: Sequence[Sequence[Any]]) -> None:
    """Write ``rows`` from row ``first_row`` down, from column 0, as ``ws.write_row`` would."""
    if not rows:
        return
    if not _fast_ok(ws):
        for i, values in enumerate(rows, start=first_row):
            ws.write_row(i, 0, values)
        return
    cells = _Cells(ws, max(len(r) for r in rows))
    out: list[str] = []
    write = ws.fh.write
    rowmin = rowmax = colmax = -1  # the rows and columns that got a cell
    colmin = 1 << 30
    for row_no, values in enumerate(rows, start=first_row):
        r = str(row_no + 1)
        made = cells.row(r, values)
        if made is None:
            # This row the slow way: XlsxWriter keeps it in ws.table until the next row starts.
            write("".join(out))
            out.clear()
            ws.write_row(row_no, 0, values)
            continue
        if ws.table:  # a row written by write_row (the header, a fallback row) still pending
            write("".join(out))
            out.clear()
            ws._write_single_row(row_no)
        else:
            ws.previous_row = row_no
        row_cells, first, last = made
        if first < 0:  # no cell: XlsxWriter writes no <row> either
            continue
        out.append(f'<row r="{r}">{"".join(row_cells)}</row>')
        if len(out) >= 512:
            write("".join(out))
            out.clear()
        if rowmin < 0:
            rowmin = row_no
        rowmax = row_no
        colmin, colmax = min(colmin, first), max(colmax, last)
    write("".join(out))
    if rowmin >= 0:  # the sheet's dimensions as XlsxWriter's _check_dimensions keeps them
        if ws.dim_rowmin is None or rowmin < ws.dim_rowmin:
            ws.dim_rowmin = rowmin
        if ws.dim_rowmax is None or rowmax > ws.dim_rowmax:
            ws.dim_rowmax = rowmax
        if ws.dim_colmin is None or colmin < ws.dim_colmin:
            ws.dim_colmin = colmin
        if ws.dim_colmax is None or colmax > ws.dim_colmax:
            ws.dim_colmax = colmax
