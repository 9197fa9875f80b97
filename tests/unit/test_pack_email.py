"""The pack email as a mail client receives it: charts as inline ``cid:`` parts, readable with images
blocked. The message is sent through Airflow's SMTP connection to a local SMTP server (aiosmtpd)
and parsed from the bytes the server received."""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from tests.support.airflow_stack import SmtpSink

from salesops.packs import charts
from salesops.packs.deliver import pack_message, send_message
from salesops.packs.render import RenderedPack, render_html, write_email_parts

IMG = re.compile(r"<img\b[^>]*>")
SRC = re.compile(r'\bsrc="([^"]*)"')
ALT = re.compile(r'\balt="([^"]*)"')


def _png() -> bytes:
    return charts.grouped_bars(["AMER", "EMEA"], {"pipeline": [1.2, 3.4]}, "Coverage")


def _view() -> dict:
    """A pack view as render_pack builds it: two sections, two charts, cards with targets."""
    bars = _png()
    card = {"key": "coverage", "label": "Pipeline coverage", "text": "2.30x", "raw": 2.3, "ref_no": 1}
    return {
        "title": "Weekly pipeline inspection",
        "pack": "weekly_pipeline_inspection",
        "scope_type": "region",
        "scope_value": "EMEA",
        "scope_label": "EMEA",
        "period": "2026-W45",
        "as_of": "2026-11-02 06:00",
        "generated_at": "2026-11-02 07:00:00",
        "narrative": ["Coverage fell from 2.50x to 2.30x."],
        "footnotes": [{"no": 1, "ref": "metric:coverage", "text": "Open pipeline / remaining quota."}],
        "sections": [
            {
                "id": "coverage",
                "title": "Coverage vs target",
                "notes": [],
                "cards": [{**card, "met": False, "target_text": "3.00x"}],
                "charts": [
                    {
                        "title": "Coverage by region",
                        "uri": charts.data_uri(bars),
                        "cid": "chart-coverage-1@salesops",
                    }
                ],
                "tables": [],
            },
            {
                "id": "new_pipeline",
                "title": "New pipeline",
                "notes": [],
                "cards": [
                    {
                        "key": "new",
                        "label": "New pipeline",
                        "text": "$1,234,567",
                        "raw": 1234567,
                        "ref_no": None,
                    }
                    | {"met": None, "target_text": None}
                ],
                "charts": [
                    {
                        "title": "New pipeline by week",
                        "uri": charts.data_uri(bars),
                        "cid": "chart-new_pipeline-1@salesops",
                    }
                ],
                "tables": [],
            },
        ],
    }


@pytest.fixture
def inbox(monkeypatch):
    sink = SmtpSink().start()
    conn = json.loads(sink.connection_json())
    conn["extra"].update({"retry_limit": 0, "timeout": 10})
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))
    try:
        yield sink
    finally:
        sink.stop()


def test_pack_email_has_inline_cid_charts_and_a_text_alternative(tmp_path: Path, inbox):
    view = _view()
    pngs = [(ch["cid"], _png()) for s in view["sections"] for ch in s["charts"]]
    email_parts = write_email_parts(view, pngs, tmp_path, "weekly__region-EMEA__2026-W45")
    pdf = tmp_path / "weekly.pdf"
    pdf.write_bytes(b"%PDF-1.7 test")
    rendered = RenderedPack(
        pack="weekly_pipeline_inspection",
        title=view["title"],
        scope_type="region",
        scope_value="EMEA",
        scope_label="EMEA",
        period="2026-W45",
        as_of=view["as_of"],
        as_of_date="2026-11-02",
        generated_at=view["generated_at"],
        work_dir=str(tmp_path),
        files={"html": str(tmp_path / "archive.html"), "pdf": str(pdf)},
        recipients=["leader-emea@example.com"],
        narrative=view["narrative"],
        checks=[],
        sections=[],
        email=email_parts,
    )
    # the archive page (and the PDF's source) keep data: URIs; only the email uses cid:
    archive = render_html(view)
    assert [SRC.search(i).group(1)[:22] for i in IMG.findall(archive)] == ["data:image/png;base64,"] * 2

    msg = pack_message(
        rendered, ["leader-emea@example.com"], "Weekly - EMEA", "reports@example.com", [str(pdf)]
    )
    send_message(msg)

    [mail] = inbox.received()
    assert mail.rcpt_tos == ["leader-emea@example.com"]
    got = message_from_bytes(mail.raw, policy=email_policy.default)
    assert got.get_content_type() == "multipart/mixed"
    alternative = got.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    text, related = alternative.get_payload()
    assert (text.get_content_type(), related.get_content_type()) == ("text/plain", "multipart/related")
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"

    # every <img> points at a cid: part of the same multipart/related, and has alt text
    html = html_part.get_content()
    tags = IMG.findall(html)
    srcs = [SRC.search(t).group(1) for t in tags]
    assert srcs == ["cid:chart-coverage-1@salesops", "cid:chart-new_pipeline-1@salesops"]
    assert [ALT.search(t).group(1) for t in tags] == ["Coverage by region", "New pipeline by week"]
    assert "data:" not in html and "http://" not in html and "https://" not in html
    by_cid = {p["Content-ID"].strip("<>"): p for p in images}
    assert set(by_cid) == {s.removeprefix("cid:") for s in srcs}
    for part in by_cid.values():
        assert part.get_content_type() == "image/png"
        assert part.get_content_disposition() == "inline"
        assert part.get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    # readable with images blocked: the key figures and what changed are text (HTML and plain text)
    for figure in ("2.30x", "3.00x", "$1,234,567", "Coverage fell from 2.50x to 2.30x."):
        assert figure in html
        assert figure in text.get_content()
    assert "Pipeline coverage: 2.30x (target 3.00x)" in text.get_content()

    # the PDF is an attachment of the outer message, not an inline part
    [attachment] = list(got.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) == ("weekly.pdf", "application/pdf")
    assert attachment.get_content() == b"%PDF-1.7 test"


def test_a_render_without_email_parts_falls_back_to_the_archive_html(tmp_path: Path):
    html = tmp_path / "p.html"
    html.write_text("<p>Pack</p>", encoding="utf-8")
    r = RenderedPack(
        "p", "P", "all", "all", "Company", "2026-W45", "x", "2026-11-02", "x", str(tmp_path),
        {"html": str(html)}, [], [], [], [],
    )  # fmt: skip
    msg = pack_message(r, ["a@example.com"], "S", "r@example.com", [])
    assert msg.get_content_type() == "text/html" and msg.get_content().strip() == "<p>Pack</p>"
