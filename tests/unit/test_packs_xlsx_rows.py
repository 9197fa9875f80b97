"""The pack XLSX's data rows written by ``xlsx_rows.write_rows`` are, byte for byte, the sheet
XlsxWriter's ``write_row`` writes for the same values (every part of the .xlsx compared)."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import xlsxwriter

from salesops.packs.render import HEADER_STYLE, NUMBER_FORMATS, WORKBOOK_OPTIONS
from salesops.packs.xlsx_rows import _fast_ok, write_rows

_TEXT = [
    "plain",
    "",
    " leading space",
    "trailing space ",
    "line\nbreak",
    "ends with newline\n",
    "\ttab first",
    'a & b < c > d "quoted"',
    "<r>looks rich</r>",
    "control \x01 char and \x1f",
    "_x0041_ literal escape",
    "non-char \ufffe here",
    "zero width \u200b and soft\xadhyphen",
    "'=SUM(A1)",
    "ünïcödé 東京",
    "x" * 20_000,  # over half of Excel's cell limit: XlsxWriter's own path
]


def _rows() -> list[list]:
    rows = []
    for i in range(300):
        rows.append(
            [
                _TEXT[i % len(_TEXT)],
                None if i % 7 == 0 else i * 1000.25,
                i,
                (i % 3 == 0) if i % 5 else None,
                datetime(2026, 11, 2, 6, i % 60, 7, i * 1017) if i > 3 else datetime(1900, 1 + i, 1, 12),
                date(2026, 1, 1 + i % 28),
                None,
                12345678901234567 if i == 4 else -0.1 * i,
                float("inf") if i == 9 else 1e-9,  # an infinite float: XlsxWriter's own path
                "" if i % 2 else None,
            ]
        )
    rows.append([None] * 10)  # a row without cells: no <row> element
    rows.append(["", None, ""])
    rows.append(["last", 1])
    return rows


def _workbook(path: Path, rows: list[list], fast: bool, **options) -> None:
    wb = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, **options})
    wb.set_properties({"created": datetime(2026, 1, 1, tzinfo=UTC)})
    header = wb.add_format(HEADER_STYLE)
    units = {u: wb.add_format({"num_format": c}) for u, c in NUMBER_FORMATS.items()}
    ws = wb.add_worksheet("Summary")
    ws.write_row(0, 0, ["key", "value"], header)
    ws.write_row(1, 0, ["a", 1])
    for sheet, data in (("Data", rows), ("Second", rows[:40]), ("Empty", [])):
        ds = wb.add_worksheet(sheet)
        col_units = [
            "text",
            "currency",
            "count",
            "bool",
            "datetime",
            "date",
            "days",
            "ratio",
            "hours",
            "text",
        ]
        for j, unit in enumerate(col_units):
            ds.set_column(j, j, 12, units.get(unit))
        ds.write_row(0, 0, [f"col {j}" for j in range(len(col_units))], header)
        if fast:
            # the fast path is the one compared (not XlsxWriter's own, taken without constant_memory)
            assert _fast_ok(ds) == wb.constant_memory
            write_rows(ds, 1, data)
        else:
            for i, values in enumerate(data, start=1):
                ds.write_row(i, 0, values)
        ds.autofilter(0, 0, len(data), len(col_units) - 1)
        ds.freeze_panes(1, 0)
    wb.close()


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("options", [{}, {"default_date_format": "dd/mm/yy"}])
def test_write_rows_writes_the_same_xlsx_as_write_row(tmp_path, options):
    rows = _rows()
    _workbook(tmp_path / "slow.xlsx", rows, fast=False, **options)
    _workbook(tmp_path / "fast.xlsx", rows, fast=True, **options)
    slow, fast = _parts(tmp_path / "slow.xlsx"), _parts(tmp_path / "fast.xlsx")
    assert sorted(slow) == sorted(fast)
    for name in slow:
        assert fast[name] == slow[name], name
    assert b'<row r="302"' not in slow["xl/worksheets/sheet2.xml"]  # the empty row: no element


def test_write_rows_without_constant_memory_takes_write_row(tmp_path):
    rows = _rows()[:30]
    opts = {"constant_memory": False}
    _workbook(tmp_path / "slow.xlsx", rows, fast=False, **opts)
    _workbook(tmp_path / "fast.xlsx", rows, fast=True, **opts)
    assert _parts(tmp_path / "slow.xlsx") == _parts(tmp_path / "fast.xlsx")
