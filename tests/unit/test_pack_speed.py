"""What makes pack slices cheap without changing them: the PDF from a stylesheet instead of inline
styles (same PDF bytes), and one open DuckDB database per database-bound step of a slice."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from salesops.packs.render import STYLES, pdf_source, render_html


def _view() -> dict:
    rows = [[f"Deal {i}", 'style="color:red" <b>x</b>', f"${i * 1000:,}"] for i in range(40)]
    return {
        "title": "Weekly pipeline inspection",
        "scope_type": "region",
        "scope_value": "EMEA",
        "scope_label": "EMEA",
        "period": "2026-W45",
        "as_of": "2026-11-02 06:00",
        "generated_at": "2026-11-02 07:00:00",
        "narrative": ["EMEA pipeline up 5 % week over week."],
        "footnotes": [{"no": 1, "ref": "metric:x", "text": "Open pipeline amount."}],
        "sections": [
            {
                "id": "coverage",
                "title": "Coverage vs target",
                "notes": ["A note."],
                "charts": [],
                "cards": [
                    {
                        "key": "coverage.ratio",
                        "label": "Coverage",
                        "text": "2.10x",
                        "raw": 2.1,
                        "ref_no": 1,
                        "met": False,
                        "target_text": "3.00x",
                    }
                ],
                "tables": [
                    {
                        "title": "Deals",
                        "sheet": "Deals",
                        "ref_no": 1,
                        "columns": [
                            {"label": "Opportunity", "numeric": False, "nowrap": False},
                            {"label": "Note", "numeric": False, "nowrap": False},
                            {"label": "Amount", "numeric": True, "nowrap": True},
                        ],
                        "rows": rows,
                        "shown": 40,
                        "total": 40,
                        "more": False,
                    }
                ],
            }
        ],
    }


def test_pdf_source_moves_every_inline_style_into_the_sheet_and_keeps_the_pdf_byte_identical():
    import weasyprint

    html = render_html(_view())
    source = pdf_source(html)
    assert ' style="' in html and ' style="' not in source
    # every style string the page used is one rule of the sheet, and nothing else changed
    used = {s for s in STYLES.values() if f'style="{s}"' in html}
    assert used and all(f"{{{s}}}" in source for s in used)
    assert source.count(' data-ps="') == html.count(' style="')
    # CRM text that looks like a style attribute stays text (escaped by Jinja), untouched
    assert html.count("style=&#34;color:red&#34;") == 40 == source.count("style=&#34;color:red&#34;")
    assert weasyprint.HTML(string=source).write_pdf() == weasyprint.HTML(string=html).write_pdf()


def test_every_pdf_of_the_process_shares_one_font_configuration_and_stays_byte_identical(tmp_path):
    """write_pdf reuses one WeasyPrint FontConfiguration (each PDF built its own: fontconfig set-up
    per slice); the PDFs are the bytes a fresh configuration gives."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    from salesops.packs import render

    html = render_html(_view())
    render.write_pdf(html, tmp_path / "a.pdf")
    render.write_pdf(html.replace("EMEA", "APAC"), tmp_path / "b.pdf")
    assert render._font_config() is render._font_config()
    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1)
    fresh = weasyprint.HTML(string=pdf_source(html), url_fetcher=fetcher).write_pdf()
    assert (tmp_path / "a.pdf").read_bytes() == fresh
    assert (tmp_path / "b.pdf").read_bytes() != fresh


def _locked_by_another_process(path) -> bool:
    code = textwrap.dedent(
        f"""
        import duckdb, sys
        try:
            duckdb.connect({str(path)!r}).close()
        except duckdb.IOException as exc:
            sys.exit(3 if "lock" in str(exc).lower() else 1)
        """
    )
    rc = subprocess.run([sys.executable, "-c", code], timeout=60).returncode
    assert rc in (0, 3), rc
    return rc == 3


def test_kept_open_shares_one_database_in_the_process_and_lets_go_of_the_file_after(tmp_path):
    from salesops.packs.connection import kept_open
    from salesops.warehouse import Warehouse

    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    wh = Warehouse(url)
    wh.execute("create table t (x integer)")
    with kept_open(wh):
        # another Warehouse object of this process (as each pack step builds its own) reads and
        # writes the same open database
        other = Warehouse(url)
        other.execute("insert into t values (1), (2)")
        assert wh.scalar("select sum(x) from t") == 3
        assert _locked_by_another_process(tmp_path / "wh.duckdb")
    assert not _locked_by_another_process(tmp_path / "wh.duckdb")
    assert Warehouse(url).scalar("select count(*) from t") == 2


def test_kept_open_is_a_no_op_without_a_database_file():
    from salesops.packs.connection import kept_open
    from salesops.warehouse import Warehouse

    wh = Warehouse("duckdb:///:memory:")
    with kept_open(wh):
        assert wh.scalar("select 42") == 42
