"""Render one pack for one scope: HTML (inline CSS, email-safe), PDF (WeasyPrint), XLSX (XlsxWriter),
CSV data files and a JSON manifest.

Usage::

    from salesops.packs.render import render_pack
    rendered = render_pack(Warehouse(), "weekly_pipeline_inspection", "region", "EMEA")
    rendered.files["pdf"]

Nothing is fetched from the network: in the HTML file and the PDF the charts are PNG data URIs
(WeasyPrint gets a URL fetcher that refuses everything but ``data:`` URLs). The email body is a
second rendering of the same template whose charts are ``cid:`` references to PNG files written
next to it (Gmail and Outlook do not show data: URIs); ``deliver`` sends them as inline MIME parts.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from salesops import paths
from salesops.packs import layout
from salesops.packs.charts import data_uri
from salesops.packs.config import SCOPES, PackSpec, get_pack
from salesops.packs.connection import kept_open
from salesops.packs.model import Card, Section, Table, fmt, plain
from salesops.packs.security import mask_email, mask_phone, mask_pii, neutralise_cell

if TYPE_CHECKING:
    from salesops.warehouse.core import Warehouse

log = logging.getLogger(__name__)

NUMERIC_UNITS = {"currency", "count", "ratio", "multiple", "per_1000", "days", "hours"}

# Inline styles (email clients drop <style> blocks; WeasyPrint reads inline styles as well).
STYLES = {
    "body": "margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1a202c;font-size:13px;",
    "wrapper": "max-width:860px;margin:0 auto;background:#ffffff;border-collapse:collapse;",
    "header": "padding:18px 20px 10px 20px;border-bottom:3px solid #2b6cb0;",
    "kicker": "font-size:11px;color:#718096;text-transform:uppercase;letter-spacing:0.05em;",
    "h1": "font-size:20px;margin:4px 0 6px 0;color:#1a365d;",
    "meta": "font-size:11px;color:#4a5568;",
    "narrative": "padding:12px 20px;background:#ebf4ff;font-size:13px;",
    "ul": "margin:6px 0 0 0;padding-left:18px;",
    "section": "padding:14px 20px 6px 20px;border-bottom:1px solid #e2e8f0;",
    "h2": "font-size:16px;margin:0 0 8px 0;color:#1a365d;",
    "h3": "font-size:13px;margin:12px 0 4px 0;color:#2d3748;",
    "cards": "border-collapse:separate;border-spacing:6px;margin:0 -6px;",
    "card": "background:#f7fafc;border:1px solid #e2e8f0;padding:8px 10px;vertical-align:top;width:33%;",
    "card_label": "font-size:11px;color:#4a5568;",
    "card_value": "font-size:18px;font-weight:bold;color:#1a202c;margin-top:2px;",
    "missed": "color:#c53030;",
    "card_target": "font-size:10px;color:#718096;",
    "sup": "font-size:9px;color:#2b6cb0;",
    "chart_wrap": "margin:8px 0;",
    "chart": "max-width:100%;height:auto;display:block;",
    "table": "border-collapse:collapse;width:100%;font-size:11px;margin:2px 0 6px 0;",
    "th": "background:#edf2f7;border:1px solid #cbd5e0;padding:3px 5px;text-align:left;font-weight:bold;",
    "td": "border:1px solid #e2e8f0;padding:3px 5px;vertical-align:top;",
    "right": "text-align:right;",
    "nowrap": "white-space:nowrap;",
    "note": "font-size:11px;color:#718096;margin:4px 0;",
    "footnotes": "padding:12px 20px 20px 20px;font-size:10px;color:#4a5568;",
    "ol": "margin:6px 0;padding-left:18px;",
}


class PackRenderError(RuntimeError):
    """A pack cannot be rendered (unknown scope, no KPI context); the message says what is missing."""


@dataclass
class RenderedPack:
    """What one render produced; JSON-serialisable (travels by XCom)."""

    pack: str
    title: str
    scope_type: str
    scope_value: str
    scope_label: str
    period: str
    as_of: str
    as_of_date: str
    generated_at: str
    work_dir: str
    files: dict[str, str]
    recipients: list[str]
    narrative: list[str]
    checks: list[dict[str, Any]]
    sections: list[dict[str, Any]]  # id, title, row_count, probe
    context: dict[str, Any] = field(default_factory=dict)
    # The email body: {"html": path, "text": path, "images": [{"cid", "path", "alt"}]} (empty when
    # the HTML was not rendered).
    email: dict[str, Any] = field(default_factory=dict)
    # sha256 of everything the files are made of except the render time (:func:`fingerprint`); a
    # re-run whose slice has the same fingerprint reuses the files instead of rendering them again.
    fingerprint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderedPack:
        return cls(**data)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.TEMPLATES_DIR)),
        autoescape=True,  # names, details and company names come from the CRM
        undefined=jinja2.StrictUndefined,
    )


def slug(value: str) -> str:
    """A file-name-safe form of a scope value or pack name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(value)).strip("-") or "none"


def period_label(period: str, info: dict[str, Any]) -> str:
    """The delivery period a pack is logged under (ISO week, fiscal month/quarter label or day)."""
    as_of = info["as_of_date"]
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    if period == "week":
        y, w, _ = as_of.isocalendar()
        return f"{y}-W{w:02d}"
    if period == "fiscal_month":
        return str(info["fiscal_month_label"])
    if period == "fiscal_quarter":
        return str(info["current_fiscal_quarter_label"])
    return as_of.isoformat()


def currency_note(wh: Warehouse) -> str | None:
    """The sentence every pack prints about currency (include/sql/packs/currency_note.sql): the
    corporate currency its amounts are in, how many deals were converted from another currency,
    and how many were left out of every figure because their currency has no conversion rate.
    None when the KPI build predates multi-currency (no marts.agg_currency_conversion)."""
    if not wh.table_exists("marts.agg_currency_conversion"):
        return None
    rows = wh.query_file("packs/currency_note.sql").to_dict("records")
    if not rows:
        return None
    corporate = rows[0]["corporate_currency"]
    converted = sum(
        int(r["opportunities_converted"] or 0) for r in rows if r["currency_iso_code"] != corporate
    )
    excluded = {r["currency_iso_code"]: int(r["opportunities_excluded"] or 0) for r in rows}
    excluded = {k: v for k, v in excluded.items() if v}
    text = f"Amounts are in {corporate}, the corporate currency"
    if converted:
        text += (
            f"; {converted:,} opportunities in other currencies were converted at the dated rate of their "
            "close date (else their currency's rate), their original amounts kept in the warehouse"
        )
    text += "."
    if excluded:
        n = sum(excluded.values())
        listed = ", ".join(f"{v:,} in {k}" for k, v in sorted(excluded.items()))
        text += (
            f" {n:,} {'opportunity is' if n == 1 else 'opportunities are'} not included in any figure "
            f"because {'its' if n == 1 else 'their'} currency has no conversion rate ({listed}; "
            "marts.int_opportunity_currency lists them with the reason)."
        )
    return text


def pack_context(wh: Warehouse) -> dict[str, Any]:
    """The KPI build's as-of context plus the latest load (include/sql/packs/context.sql).

    Raises:
        PackRenderError: the KPI marts have not been built.
    """
    if not wh.table_exists("marts.kpi_context"):
        raise PackRenderError(
            "marts.kpi_context does not exist: build the KPI marts (kpi_transforms) before packs"
        )
    rows = wh.query_file("packs/context.sql").to_dict("records")
    if not rows:
        raise PackRenderError("marts.kpi_context is empty: the KPI build did not finish")
    return {k: plain(v) for k, v in rows[0].items()}


def _mask_value(v: str, pii: str, spec: PackSpec) -> str:
    if pii == "email" and not spec.allow_emails:
        return mask_email(v) if "@" in v else "***"
    if pii == "phone" and not spec.allow_phones:
        return mask_phone(v) if mask_phone(v) != v else "***"
    if pii == "text":
        return mask_pii(v, allow_emails=spec.allow_emails, allow_phones=spec.allow_phones)
    return v


def _mask_rows(table: Table, spec: PackSpec) -> None:
    for col in table.columns:
        if col.pii is None:
            continue
        masked: dict[str, str] = {}  # a column repeats its texts (an exception list: 84 k of 316 k)
        for row in table.rows:
            v = row.get(col.key)
            if not isinstance(v, str):
                continue
            m = masked.get(v)
            if m is None:
                m = masked[v] = _mask_value(v, col.pii, spec)
            if m is not v:
                row[col.key] = m


def _footnotes(sections: list[Section], spec: PackSpec) -> tuple[list[dict[str, Any]], dict[str, int]]:
    from salesops.kpis.registry import definition

    order: dict[str, int] = {}
    notes = []
    refs = [c.ref for s in sections for c in s.cards] + [t.ref for s in sections for t in s.tables]
    for ref in refs:
        if not ref or ref in order:
            continue
        kind, _, name = ref.partition(":")
        if kind == "metric":
            text = definition(name)
        elif kind == "def" and name in spec.definitions:
            text = spec.definitions[name]
        else:
            raise PackRenderError(
                f"footnote {ref!r} is neither a metrics.yaml metric nor a packs.yaml definition"
            )
        order[ref] = len(order) + 1
        notes.append({"no": order[ref], "ref": ref, "text": text})
    return notes, order


def _card_view(c: Card, refs: dict[str, int], currency: str) -> dict[str, Any]:
    raw = plain(c.value)
    return {
        "key": c.key,
        "label": c.label,
        "text": fmt(raw, c.unit, currency),
        "raw": "" if raw is None else (raw if not isinstance(raw, date) else raw.isoformat()),
        "ref_no": refs.get(c.ref or ""),
        "met": c.met,
        "target_text": None if c.target is None else fmt(c.target, c.unit, currency),
        "na_reason": c.na_reason if raw is None else None,
    }


def _table_view(t: Table, refs: dict[str, int], spec: PackSpec) -> dict[str, Any]:
    limit = t.max_rows_html or spec.max_rows_html
    shown = t.rows[:limit]
    return {
        "title": t.title,
        "sheet": t.sheet,
        "ref_no": refs.get(t.ref or ""),
        "columns": [
            {
                "label": c.label,
                "numeric": c.unit in NUMERIC_UNITS,
                "nowrap": c.unit in NUMERIC_UNITS | {"date", "datetime"}
                or c.key.endswith(("_id", "_quarter", "period_label")),
            }
            for c in t.columns
        ],
        "rows": [[fmt(r.get(c.key), c.unit, spec.currency) for c in t.columns] for r in shown],
        "shown": len(shown),
        "total": len(t.rows),
        "more": len(t.rows) > len(shown),
    }


def render_html(view: dict[str, Any], *, email: bool = False) -> str:
    """The pack's HTML from the view model: the PDF/archive page (charts as data URIs) or, with
    ``email``, the email body (charts as ``cid:`` references to inline parts)."""
    return _env().get_template("packs/pack.html.j2").render(p=view, css=STYLES, email=email)


def email_text(view: dict[str, Any]) -> str:
    """The plain-text alternative of the email: what a reader with images blocked (or a text-only
    client) needs - title, scope, as-of, what changed and every key figure with its target."""
    lines = [
        f"{view['title']}: {view['scope_label']} ({view['period']})",
        f"Data as of {view['as_of']} UTC (source extraction time)",
    ]
    if view.get("currency_note"):
        lines.append(view["currency_note"])
    if view["narrative"]:
        lines += ["", "What changed:"] + [f"- {n}" for n in view["narrative"]]
    for s in view["sections"]:
        if not s["cards"]:
            continue
        lines += ["", s["title"]]
        for c in s["cards"]:
            target = f" (target {c['target_text']})" if c["target_text"] else ""
            lines.append(f"- {c['label']}: {c['text']}{target}")
    lines += ["", "Charts, tables and definitions: the HTML version of this email and the attached PDF/XLSX."]
    return "\n".join(lines) + "\n"


def write_email_parts(view: dict[str, Any], charts: list[tuple[str, bytes]], out: Path, base: str) -> dict:
    """The email body (HTML with cid: charts + plain text) and one PNG per chart, in ``out``."""
    images = []
    for cid, png in charts:
        path = out / f"{base}__{cid.split('@', 1)[0]}.png"
        path.write_bytes(png)
        images.append({"cid": cid, "path": str(path)})
    alts = [ch["title"] for s in view["sections"] for ch in s["charts"]]
    for img, alt in zip(images, alts, strict=True):
        img["alt"] = alt
    html_path, text_path = out / f"{base}.email.html", out / f"{base}.email.txt"
    html_path.write_text(render_html(view, email=True), encoding="utf-8")
    text_path.write_text(email_text(view), encoding="utf-8")
    return {"html": str(html_path), "text": str(text_path), "images": images}


_STYLE_ATTR = re.compile(r' style="([^"]*)"')


def pdf_source(html: str) -> str:
    """The pack HTML with its inline styles moved into the ``<style>`` block, for WeasyPrint.

    The email-safe HTML repeats the same ~30 inline style strings on every element (thousands of
    cells); WeasyPrint parses each ``style`` attribute on its own. Here each distinct string becomes
    one rule on an attribute selector (``[data-ps="3"]``, which no other rule of the page contends
    with for the same properties), so the computed styles - and the PDF, byte for byte - are the
    same at less CPU. Data values cannot fake a ``style="`` attribute: Jinja escapes their quotes.
    """
    rules: dict[str, str] = {}

    def _ref(m: re.Match[str]) -> str:
        key = rules.setdefault(m.group(1), str(len(rules)))
        return f' data-ps="{key}"'

    body = _STYLE_ATTR.sub(_ref, html)
    sheet = "".join(f'[data-ps="{k}"]{{{style}}}\n' for style, k in rules.items())
    return body.replace("</style>", sheet + "</style>", 1)


@lru_cache(maxsize=1)
def _font_config() -> Any:
    """One WeasyPrint FontConfiguration for every PDF of the process.

    Without it, each ``write_pdf`` builds its own (a new fontconfig configuration and font-face
    cache); the pack HTML declares no ``@font-face``, so all slices resolve the same system fonts
    and the PDFs are the same bytes either way (tests/unit/test_packs_unit.py).
    """
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def write_pdf(html: str, path: Path) -> None:
    """HTML -> PDF with WeasyPrint, no network fetches (styles as a sheet: :func:`pdf_source`)."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # Only data: URLs (the embedded charts) may be loaded; http(s)/file references are refused.
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1)
    weasyprint.HTML(string=pdf_source(html), url_fetcher=fetcher).write_pdf(
        str(path), font_config=_font_config()
    )


def _xlsx_value(value: Any, unit: str = "") -> Any:
    kind = type(value)
    if kind is str:  # the common cases first: a table has millions of cells
        first = value[:1]
        if first.isascii() and first.isalnum():  # cannot look like a formula (looks_like_formula)
            return value
        return neutralise_cell(value)
    if value is None or kind is int or kind is bool:
        return value
    if kind is float:
        return None if value != value else value
    value = plain(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return neutralise_cell(value)


def _table_cells(table: Table) -> list[list[Any]]:
    """Every row of a data table as the cells the XLSX and the CSV hold (plain scalars, formula-like
    text neutralised), computed once for both writers."""
    keys = [c.key for c in table.columns]
    return [[_xlsx_value(r.get(k)) for k in keys] for r in table.rows]


NUMBER_FORMATS = {
    "currency": "#,##0;-#,##0",
    "count": "#,##0",
    "ratio": "0.0%",
    "multiple": '0.00"x"',
    "per_1000": "0.0",
    "days": "0.0",
    "hours": "0.0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
HEADER_STYLE = {
    "bold": True,
    "font_color": "#FFFFFF",
    "bg_color": "#1A365D",
    "valign": "vcenter",
    "text_wrap": True,
}
# XlsxWriter writes text as text: no formula, URL or number guessing (a neutralised cell stays text).
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
    "nan_inf_to_errors": True,
}


def _widths(rows: list[list[Any]]) -> list[int]:
    """Column widths from the header and the first rows' shown text (8 to 60 characters)."""
    out = []
    for i in range(max((len(r) for r in rows), default=0)):
        width = max((len(str(r[i])) for r in rows if i < len(r) and r[i] is not None), default=8)
        out.append(min(max(width + 2, 8), 60))
    return out


def _png_height(png: bytes) -> int:
    """Pixel height from a PNG's IHDR chunk."""
    import struct

    return int(struct.unpack(">I", png[20:24])[0])


def write_xlsx(
    view: dict[str, Any],
    sections: list[Section],
    path: Path,
    spec: PackSpec,
    cells: dict[int, list[list[Any]]] | None = None,
) -> None:
    """Summary sheet (every card: key, label, value, text, definition), one data sheet per listed
    table (every row; header formatting, autofilter, frozen header), Definitions and Charts.

    Written with XlsxWriter row by row (``constant_memory``): a 300 k-row exception sheet costs
    seconds and a few MB, where a whole openpyxl workbook in memory cost a minute. ``cells`` are the
    tables' prepared rows (:func:`_table_cells`, keyed by ``id(table)``) when the caller has them.
    """
    import io

    import xlsxwriter

    from salesops.packs.xlsx_rows import write_rows

    cells = cells if cells is not None else {}
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    header_fmt = wb.add_format(HEADER_STYLE)
    unit_fmt = {unit: wb.add_format({"num_format": code}) for unit, code in NUMBER_FORMATS.items()}
    ws = wb.add_worksheet("Summary")
    meta = [
        ["Pack", view["title"]],
        ["Scope", f"{view['scope_type']} = {view['scope_value']}"],
        ["Scope name", view["scope_label"]],
        ["Period", view["period"]],
        ["Data as of (UTC)", view["as_of"]],
        ["Generated (UTC)", view["generated_at"]],
    ]
    if view.get("currency_note"):
        meta.append(["Currency", view["currency_note"]])
    meta += [["Rows", note] for note in view.get("sheet_notes", [])]
    row = 0
    for m in meta:
        ws.write_row(row, 0, [neutralise_cell(x) for x in m])
        row += 1
    row += 1
    for line in view["narrative"]:
        ws.write_row(row, 0, ["What changed", neutralise_cell(line)])
        row += 1
    row += 1
    header_row = row
    header = ["key", "section", "figure", "value", "unit", "as shown", "target", "definition"]
    for col, width in enumerate((40, 26, 44, 16, 10, 18, 8, 10)):
        ws.set_column(col, col, width)
    ws.write_row(header_row, 0, header, header_fmt)
    refs = {f["ref"]: f["no"] for f in view["footnotes"]}
    for s in sections:
        for c in s.cards:
            row += 1
            ws.write_row(
                row,
                0,
                [
                    c.key,
                    neutralise_cell(s.title),
                    neutralise_cell(c.label),
                    None,
                    c.unit,
                    neutralise_cell(fmt(c.value, c.unit, spec.currency)),
                    c.target,
                    refs.get(c.ref or ""),
                ],
            )
            ws.write(row, 3, _xlsx_value(c.value, c.unit), unit_fmt.get(c.unit))
    ws.autofilter(header_row, 0, row, len(header) - 1)
    ws.freeze_panes(header_row + 1, 0)

    used: set[str] = {"Summary", "Definitions", "Charts"}
    for s in sections:
        for t in s.tables:
            if not t.sheet:
                continue
            name = t.sheet[:31]
            n = 2
            while name in used:
                name = f"{t.sheet[:28]} {n}"
                n += 1
            used.add(name)
            ds = wb.add_worksheet(name)
            labels = [c.label for c in t.columns]
            shown = [labels] + [[fmt(r.get(c.key), c.unit) for c in t.columns] for r in t.rows[:200]]
            for j, (c, width) in enumerate(zip(t.columns, _widths(shown), strict=False)):
                ds.set_column(j, j, width, unit_fmt.get(c.unit))
            ds.write_row(0, 0, labels, header_fmt)
            rows = cells.get(id(t))
            if rows is None:
                rows = _table_cells(t)
            rows = rows[: spec.max_rows_xlsx]
            write_rows(ds, 1, rows)  # as write_row per row, without its per-cell cost
            ds.autofilter(0, 0, len(rows), max(len(labels) - 1, 0))
            ds.freeze_panes(1, 0)

    dsheet = wb.add_worksheet("Definitions")
    dsheet.set_column(1, 1, 36)
    dsheet.set_column(2, 2, 120)
    dsheet.write_row(0, 0, ["no", "reference", "definition"], header_fmt)
    for i, f in enumerate(view["footnotes"], start=1):
        dsheet.write_row(i, 0, [f["no"], f["ref"], neutralise_cell(f["text"])])
    dsheet.freeze_panes(1, 0)

    pngs = [(ch.title, ch.png) for s in sections for ch in s.charts]
    if pngs:
        cs = wb.add_worksheet("Charts")
        row = 0
        for title, png in pngs:
            cs.write(row, 0, neutralise_cell(title))
            cs.insert_image(row + 1, 0, f"{slug(title) or 'chart'}.png", {"image_data": io.BytesIO(png)})
            row += int(_png_height(png) / 20) + 4
    wb.close()


def sheet_notes(sections: list[Section], spec: PackSpec, base: str) -> list[str]:
    """What the XLSX Summary says of each data sheet cut at ``max_rows_xlsx`` rows."""
    return [
        f"sheet {t.sheet}: the first {spec.max_rows_xlsx:,} of {len(t.rows):,} rows ({t.title}); "
        f"every row is in the CSV file {csv_name(base, t)}"
        for s in sections
        for t in s.tables
        if t.sheet and len(t.rows) > spec.max_rows_xlsx
    ]


def csv_name(base: str, table: Table) -> str:
    """The file name of a data sheet's CSV beside the pack's other files."""
    return f"{base}__{slug(table.sheet or table.title).lower()}.csv"


def write_csvs(
    sections: list[Section], out_dir: Path, base: str, cells: dict[int, list[list[Any]]] | None = None
) -> dict[str, str]:
    """One CSV per data sheet (cells neutralised against formula injection)."""
    cells = cells if cells is not None else {}
    files = {}
    for s in sections:
        for t in s.tables:
            if not t.sheet:
                continue
            path = out_dir / csv_name(base, t)
            rows = cells.get(id(t))
            if rows is None:
                rows = _table_cells(t)
            with path.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow([c.label for c in t.columns])
                w.writerows(rows)
            files[f"csv:{t.sheet}"] = str(path)
    return files


def write_tables(
    view: dict[str, Any],
    sections: list[Section],
    out: Path,
    base: str,
    spec: PackSpec,
    formats: tuple[str, ...],
) -> dict[str, str]:
    """A slice's XLSX and CSV files (those of ``formats``), the tables' cells prepared once for
    both; returns their paths (``xlsx``, ``csv:<sheet>``). A layout process's job."""
    cells = {id(t): _table_cells(t) for s in sections for t in s.tables if t.sheet}
    files: dict[str, str] = {}
    if "xlsx" in formats:
        write_xlsx(view, sections, out / f"{base}.xlsx", spec, cells)
        files["xlsx"] = str(out / f"{base}.xlsx")
    if "csv" in formats:
        files.update(write_csvs(sections, out, base, cells))
    return files


def pdf_file(html: str, path: Path) -> dict[str, str]:
    """:func:`write_pdf`; returns ``{"pdf": path}``. A layout process's job."""
    write_pdf(html, path)
    return {"pdf": str(path)}


@dataclass
class PendingPack:
    """A rendered slice whose files may still be being laid out (:func:`start_render_pack`)."""

    rendered: RenderedPack
    jobs: list[tuple[str, Future[dict[str, str]]]] = field(default_factory=list)
    manifest: Path | None = None  # written by result() once every file is there; None = done

    def result(self) -> RenderedPack:
        """Wait for the slice's files, write its manifest and return it.

        Raises:
            the exception laying out a file raised (the first, once every job has ended: no file
            is still being written); PackRenderError when a layout process died.
        """
        if self.manifest is None:
            return self.rendered
        errors: list[Exception] = []
        for what, job in self.jobs:
            try:
                self.rendered.files.update(job.result())
            except BrokenProcessPool as exc:
                errors.append(
                    PackRenderError(
                        f"the process laying out the {what} ended abruptly (killed, e.g. out of memory): {exc}"
                    )
                )
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        r, manifest = self.rendered, self.manifest
        # Written last: a manifest names files that all exist (a re-run may reuse them).
        manifest.write_text(json.dumps(r.to_dict(), indent=2, default=str), encoding="utf-8")
        r.files["manifest"] = str(manifest)
        self.manifest = None
        log.info(
            "rendered %s for %s=%s (%s): %s", r.pack, r.scope_type, r.scope_value, r.period, sorted(r.files)
        )
        return r


# Bump when the writers change what the same data renders to (a re-run must not reuse old files).
RENDER_VERSION = 2  # 2: XlsxWriter; CSV time stamps in UTC like the XLSX


def _table_digest(table: Table) -> str:
    """sha256 of a table's rows, column by column: each column's values as one ``repr`` of a list.

    The same information as JSON-encoding every row dict (a value's ``repr`` tells str from int,
    float, date, datetime, bool and None, and a float's ``repr`` round-trips), at a fraction of the
    CPU: a 326 k-row scorecard took ~3 s through ``json.dumps(..., default=str)``. Only the
    table's columns are hashed: a row's other keys reach no file.
    """
    import hashlib

    h = hashlib.sha256(repr(len(table.rows)).encode())
    for c in table.columns:
        h.update(repr((c.key, [r.get(c.key) for r in table.rows])).encode("utf-8"))
    return h.hexdigest()


def fingerprint(
    view: dict[str, Any],
    sections: list[Section],
    info: dict[str, Any],
    formats: tuple[str, ...],
    checks: list[Any],
) -> str:
    """sha256 of what a slice's files are made of, except the render time: the view (every shown
    figure, row, chart PNG and footnote), every row of every table (the XLSX/CSV hold them all:
    :func:`_table_digest`), the pack checks' warehouse totals, the data's context, the formats, the
    template and styles."""
    import hashlib

    template = (paths.TEMPLATES_DIR / "packs" / "pack.html.j2").read_bytes()
    payload = {
        "version": RENDER_VERSION,
        "template": hashlib.sha256(template).hexdigest(),
        "styles": STYLES,
        "formats": sorted(formats),
        "view": {k: v for k, v in view.items() if k != "generated_at"},
        "tables": [
            [t.title, t.sheet, [(c.key, c.label, c.unit, c.pii) for c in t.columns], _table_digest(t)]
            for s in sections
            for t in s.tables
        ],
        "cards": [(c.key, plain(c.value), c.unit, c.target) for s in sections for c in s.cards],
        "context": info,
        "checks": [asdict(c) for c in checks],
    }
    raw = json.dumps(payload, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def _reusable(manifest: Path, fp: str) -> RenderedPack | None:
    """The earlier render of this slice when it has the same fingerprint and all its files exist."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != fp:
        return None
    email = data.get("email") or {}
    needed = list(data.get("files", {}).values()) + [email.get("html"), email.get("text")]
    needed += [img.get("path") for img in email.get("images", [])]
    if not all(p and Path(p).is_file() for p in needed):
        return None
    try:
        rendered = RenderedPack.from_dict(data)
    except TypeError:  # a manifest of another layout
        return None
    rendered.files["manifest"] = str(manifest)
    return rendered


def work_dir(pack: str, period: str, scope_type: str, scope_value: str) -> Path:
    """Where a render is written before it is checked: output_dir()/packs/_work/<pack>/<period>/<scope>/."""
    return paths.output_dir() / "packs" / "_work" / pack / period / f"{scope_type}-{slug(scope_value)}"


def render_pack(
    wh: Warehouse,
    pack: str,
    scope_type: str = "all",
    scope_value: str = "all",
    *,
    out_dir: Path | None = None,
    formats: tuple[str, ...] = ("html", "pdf", "xlsx", "csv"),
    generated_at: datetime | None = None,
    reuse: bool = True,
) -> RenderedPack:
    """Render one pack for one scope and write its files.

    Args:
        wh: the warehouse (KPI marts and quality tables built).
        pack: a pack of packs.yaml.
        scope_type / scope_value: the slice (``all``/``all``, ``region``/``EMEA``, ``team``/``EMEA-MM``,
            ``owner``/<user id>); every dataset is filtered to it.
        out_dir: where to write (default :func:`work_dir`).
        formats: which files to write.
        generated_at: the render time printed on the pack (default: now, UTC).
        reuse: with the default render time, a slice whose inputs are unchanged since its last
            render in ``out_dir`` (same :func:`fingerprint`: a re-run for the same data) keeps that
            render's files (and its render time) instead of laying them out again.

    Raises:
        PackRenderError: unknown scope type, or the KPI marts are missing.
    """
    return start_render_pack(
        wh,
        pack,
        scope_type,
        scope_value,
        out_dir=out_dir,
        formats=formats,
        generated_at=generated_at,
        reuse=reuse,
    ).result()


def start_render_pack(
    wh: Warehouse,
    pack: str,
    scope_type: str = "all",
    scope_value: str = "all",
    *,
    out_dir: Path | None = None,
    formats: tuple[str, ...] = ("html", "pdf", "xlsx", "csv"),
    generated_at: datetime | None = None,
    reuse: bool = True,
) -> PendingPack:
    """Render one pack for one scope and start laying out its files: :func:`render_pack` (same
    arguments, same errors) without waiting for the PDF and the XLSX/CSV files, which the layout
    processes write meanwhile (:mod:`salesops.packs.layout`); :meth:`PendingPack.result` waits for
    them, writes the manifest and returns the RenderedPack.
    """
    from salesops.packs import narrative
    from salesops.packs.sections import SECTIONS, BuildContext

    spec = get_pack(pack)
    if scope_type not in SCOPES:
        raise PackRenderError(f"scope_type {scope_type!r} is not one of {list(SCOPES)}")
    if scope_type == "all":
        scope_value = "all"
    # Every query of the slice on one open database; the file is let go before the PDF/XLSX layout.
    with kept_open(wh):
        info = pack_context(wh)
        label = {"all": "Company"}.get(scope_type, scope_value)
        if scope_type == "owner":
            names = wh.query_file("packs/owner_name.sql", {"owner_id": scope_value})["name"].tolist()
            label = names[0] if names else scope_value
        info["scope_label"] = label
        period = period_label(spec.period, info)
        ctx = BuildContext(wh, spec, scope_type, scope_value, info)
        sections = [SECTIONS[sid](ctx) for sid in spec.sections]
        note = currency_note(wh)
    # The query results are in the sections now: let the cached columns go before the files are
    # laid out (the company slice of dq_scorecard holds 317 k exception rows at 1 M).
    ctx.release()
    try:  # the charts the layout processes drew meanwhile
        for s in sections:
            s.charts = [ch.drawn() for ch in s.charts]
    except BrokenProcessPool as exc:
        raise PackRenderError(
            f"the process drawing a chart ended abruptly (killed, e.g. out of memory): {exc}"
        ) from exc
    for s in sections:
        for t in s.tables:
            _mask_rows(t, spec)
    footnotes, refs = _footnotes(sections, spec)
    gen = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    as_of = info["as_of_ts"]
    view = {
        "title": spec.title,
        "pack": pack,
        "scope_type": scope_type,
        "scope_value": scope_value,
        "scope_label": label,
        "period": period,
        "as_of": fmt(as_of, "datetime"),
        "generated_at": gen.isoformat(sep=" "),
        "narrative": narrative.build(pack, label, sections, spec.currency),
        "currency_note": note,
        "footnotes": footnotes,
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "unavailable": s.unavailable,
                "notes": s.notes,
                "cards": [_card_view(c, refs, spec.currency) for c in s.cards],
                "charts": [
                    {"title": ch.title, "uri": data_uri(ch.png), "cid": f"chart-{slug(s.id)}-{i}@salesops"}
                    for i, ch in enumerate(s.charts, start=1)
                ],
                "tables": [_table_view(t, refs, spec) for t in s.tables],
            }
            for s in sections
        ],
    }
    out = out_dir or work_dir(pack, period, scope_type, scope_value)
    out.mkdir(parents=True, exist_ok=True)
    base = f"{pack}__{scope_type}-{slug(scope_value)}__{period}"
    view["sheet_notes"] = sheet_notes(sections, spec, base)  # in the fingerprint: the cut is policy
    fp = fingerprint(view, sections, info, formats, ctx.checks)
    if reuse and generated_at is None:
        earlier = _reusable(out / f"{base}.manifest.json", fp)
        if earlier is not None:
            log.info(
                "%s for %s=%s (%s) unchanged since its render at %s: files reused",
                pack,
                scope_type,
                scope_value,
                period,
                earlier.generated_at,
            )
            return PendingPack(earlier)
    files: dict[str, str] = {}
    html = render_html(view)
    email: dict[str, Any] = {}
    if "html" in formats or "pdf" in formats:
        (out / f"{base}.html").write_text(html, encoding="utf-8")
        files["html"] = str(out / f"{base}.html")
        section_views: list[dict[str, Any]] = view["sections"]
        pngs = [
            (ch["cid"], c.png)
            for sv, s in zip(section_views, sections, strict=True)
            for ch, c in zip(sv["charts"], s.charts, strict=True)
        ]
        email = write_email_parts(view, pngs, out, base)
    # The PDF and the XLSX/CSV files from plain values, in the layout processes when there are some
    # (salesops.packs.layout): the caller builds its next slice meanwhile.
    jobs: list[tuple[str, Future[dict[str, str]]]] = []
    if "pdf" in formats:
        jobs.append(("PDF", layout.submit(pdf_file, html, out / f"{base}.pdf")))
    if {"xlsx", "csv"} & set(formats):
        tables = "XLSX/CSV files" if "xlsx" in formats else "CSV files"
        jobs.append((tables, layout.submit(write_tables, view, sections, out, base, spec, formats)))
    try:
        recipients = spec.recipients_for(scope_type, scope_value)
    except Exception:  # a scope the pack has no audience for (ad-hoc render): nobody to send to
        recipients = []
    rendered = RenderedPack(
        pack=pack,
        title=spec.title,
        scope_type=scope_type,
        scope_value=scope_value,
        scope_label=label,
        period=period,
        as_of=fmt(as_of, "datetime"),
        as_of_date=str(info["as_of_date"]),
        generated_at=gen.isoformat(sep=" "),
        work_dir=str(out),
        files=files,
        recipients=recipients,
        narrative=view["narrative"],
        checks=[asdict(c) for c in ctx.checks],
        sections=[
            {
                "id": s.id,
                "title": s.title,
                "row_count": s.row_count,
                "probe": s.probe,
                "unavailable": s.unavailable,
            }
            for s in sections
        ],
        context={k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in info.items()},
        email=email,
        fingerprint=fp,
    )
    return PendingPack(rendered, jobs, out / f"{base}.manifest.json")
