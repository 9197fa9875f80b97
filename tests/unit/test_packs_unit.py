"""Report packs without a warehouse: config validation, schedules, PII masking, formula-injection
neutralising, formatting, the narrative, HTML escaping and the XLSX/CSV writers."""

from __future__ import annotations

import copy
import csv
from datetime import date, datetime

import pytest

from salesops.config import load_yaml
from salesops.packs import narrative
from salesops.packs.config import PackConfigError, Schedule, get_pack, load_packs, parse_packs
from salesops.packs.model import Card, Column, Section, Table, fmt
from salesops.packs.security import mask_email, mask_phone, mask_pii, neutralise_cell


@pytest.fixture(scope="module")
def raw_config() -> dict:
    return load_yaml("packs.yaml")


def test_every_pack_of_the_issue_is_configured_with_known_sections():
    packs = load_packs()
    assert list(packs) == [
        "weekly_pipeline_inspection",
        "forecast_hygiene",
        "dq_scorecard",
        "routing_sla",
        "quarter_end",
    ]
    weekly = packs["weekly_pipeline_inspection"]
    assert [a.scope for a in weekly.audiences] == ["all", "region", "team"]
    assert weekly.recipients_for("region", "EMEA") == ["leader-emea@example.com"]
    assert weekly.recipients_for("team", "EMEA-MM") == ["manager-emea-mm@example.com"]
    assert weekly.audience("team").values is None  # "*" = every team in the data
    assert set(weekly.channels) == {"email", "slack", "file"}
    assert packs["routing_sla"].allow_phones and not packs["routing_sla"].allow_emails
    assert not any(p.allow_emails for p in packs.values())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c["packs"]["dq_scorecard"].update(sections=["dq_scorecard", "nope"]),
            r"unknown section\(s\) \['nope'\]",
        ),
        (
            lambda c: c["packs"]["dq_scorecard"].update(period="fortnight"),
            r"packs\.dq_scorecard\.period: got 'fortnight'; expected 'day', 'week', 'fiscal_month' or",
        ),
        (
            lambda c: c["packs"]["dq_scorecard"].update(channels=["email", "fax"]),
            r"packs\.dq_scorecard\.channels\[1\]: got 'fax'; expected 'email', 'slack' or 'file'",
        ),
        (
            lambda c: c["packs"]["dq_scorecard"].update(schedule={"every": "week", "weekday": "monday"}),
            r"weekday",
        ),
        (
            lambda c: c["packs"]["dq_scorecard"]["audiences"][0].update(scope="galaxy"),
            r"audiences\[0\].scope",
        ),
        (
            lambda c: c["packs"]["dq_scorecard"]["audiences"][0].update(recipients=["not-an-address"]),
            r"not an email",
        ),
    ],
)
def test_bad_config_is_rejected_with_the_key_named(raw_config, mutate, message):
    cfg = copy.deepcopy(raw_config)
    mutate(cfg)
    with pytest.raises(PackConfigError, match=message):
        parse_packs(cfg)


def test_unknown_pack_lists_the_known_ones():
    with pytest.raises(PackConfigError, match="unknown pack 'weekly'.*dq_scorecard"):
        get_pack("weekly")


def test_schedules_are_judged_on_the_as_of_date():
    monday, tuesday = date(2026, 11, 2), date(2026, 11, 3)
    month_end, quarter_end = date(2026, 11, 30), date(2027, 1, 31)
    weekly = Schedule("week", "mon")
    assert weekly.is_due(monday, month_end, quarter_end) and not weekly.is_due(
        tuesday, month_end, quarter_end
    )
    me = Schedule("month_end", days_before=3)
    assert [me.is_due(date(2026, 11, d), month_end, quarter_end) for d in (27, 28, 29, 30)] == [
        False,
        True,
        True,
        True,
    ]
    qe = Schedule("quarter_end", days_before=1)
    assert qe.is_due(quarter_end, month_end, quarter_end) and not qe.is_due(
        date(2027, 1, 30), month_end, quarter_end
    )


def test_pii_masking():
    assert mask_email("bidola.tirivanu@poferokepenete.example") == "b***@poferokepenete.example"
    assert mask_phone("+1-555-0122-2717") == "***17"
    assert mask_phone("call (415) 555-0100 today") == "call ***00 today"
    # dates, record ids and amounts are not phone numbers
    text = "close date 2026-11-02 on 006DM0000000002729 for 1500000"
    assert mask_pii(text) == text
    assert mask_pii("mail x.y@corp.example or +44 20 7946 0958") == "mail x***@corp.example or ***58"
    assert mask_pii("x.y@corp.example", allow_emails=True) == "x.y@corp.example"
    assert mask_pii("+44 20 7946 0958", allow_phones=True) == "+44 20 7946 0958"
    assert mask_pii(1234567890) == 1234567890


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_prefixes_are_neutralised(value):
    assert neutralise_cell(value) == "'" + value


def test_plain_values_and_numbers_are_not_touched():
    assert neutralise_cell("Demo Rep 001") == "Demo Rep 001"
    assert neutralise_cell(-250300.0) == -250300.0
    assert neutralise_cell(None) is None


def test_number_formats():
    assert fmt(60364200, "currency") == "$60,364,200"
    assert fmt(-923100.4, "currency") == "-$923,100"
    assert fmt(0.18, "ratio") == "18.0 %"
    assert fmt(3.0897, "multiple") == "3.09x"
    assert fmt(None, "currency") == "n/a"
    assert fmt(float("nan"), "count") == "n/a"
    assert fmt(date(2026, 11, 2), "date") == "2026-11-02"


def test_movement_narrative_names_the_driver():
    facts = {
        "start": 1_000_000,
        "end": 920_000,
        "change": -80_000,
        "pct": -0.08,
        "window": "FY2027-Q4",
        "flows": {"new": (1, 20_000), "pushed": (3, -90_000), "lost": (2, -10_000), "won": (0, 0)},
    }
    line = narrative.movement_sentence("EMEA", facts)
    assert line == (
        "EMEA FY2027-Q4 pipeline down 8 % week over week ($1,000,000 to $920,000), driven by 3 deals "
        "pushed to a later quarter ($90,000)."
    )
    up = dict(facts, end=1_050_000, change=50_000, pct=0.05)
    assert "up 5 %" in narrative.movement_sentence(
        "EMEA", up
    ) and "1 deal created this week" in narrative.movement_sentence("EMEA", up)
    flat = dict(facts, end=1_000_000, change=0, pct=0.0)
    assert narrative.movement_sentence("EMEA", flat).startswith("EMEA FY2027-Q4 pipeline flat week over week")


def _section_with_evil_rows() -> Section:
    rows = [
        {
            "name": "<script>alert('x')</script>",
            "formula": '=HYPERLINK("http://evil.example","x")',
            "amount": -5.0,
        }
    ]
    table = Table(
        "Evil",
        [Column("name", "Name"), Column("formula", "Formula"), Column("amount", "Amount", "currency")],
        rows,
        sheet="Evil",
    )
    return Section(
        "evil",
        "Evil <b>section</b>",
        cards=[Card("evil.n", "<img src=x onerror=alert(1)>", 3, "count")],
        tables=[table],
    )


def test_html_escapes_crm_text(tmp_path):
    from salesops.packs.render import render_html

    sec = _section_with_evil_rows()
    view = {
        "title": "T",
        "scope_type": "all",
        "scope_value": "all",
        "scope_label": "<i>Company</i>",
        "period": "2026-W45",
        "as_of": "2026-11-02 06:00:00",
        "generated_at": "x",
        "narrative": ["<b>n</b>"],
        "footnotes": [],
        "sections": [
            {
                "id": "evil",
                "title": sec.title,
                "notes": [],
                "charts": [],
                "cards": [
                    {
                        "key": "evil.n",
                        "label": sec.cards[0].label,
                        "text": "3",
                        "raw": 3,
                        "ref_no": None,
                        "met": None,
                        "target_text": None,
                    }
                ],
                "tables": [
                    {
                        "title": "Evil",
                        "sheet": "Evil",
                        "ref_no": None,
                        "columns": [{"label": "Name", "numeric": False, "nowrap": False}],
                        "rows": [["<script>alert('x')</script>"]],
                        "shown": 1,
                        "total": 1,
                        "more": False,
                    }
                ],
            }
        ],
    }
    html = render_html(view)
    assert "<script>" not in html and "<img src=x" not in html and "<i>Company</i>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def _view(**extra):
    """The smallest pack view the XLSX writer reads."""
    view = {
        "title": "T",
        "scope_type": "all",
        "scope_value": "all",
        "scope_label": "Company",
        "period": "p",
        "as_of": "a",
        "generated_at": "g",
        "narrative": [],
        "footnotes": [],
    }
    return {**view, **extra}


def test_xlsx_and_csv_neutralise_formulas(tmp_path):
    from openpyxl import load_workbook

    from salesops.packs.render import write_csvs, write_xlsx

    sec = _section_with_evil_rows()
    view = _view(narrative=["=1+1"])
    write_xlsx(view, [sec], tmp_path / "x.xlsx", get_pack("dq_scorecard"))
    wb = load_workbook(tmp_path / "x.xlsx")
    cell = wb["Evil"]["B2"]
    assert cell.data_type == "s" and cell.value == '\'=HYPERLINK("http://evil.example","x")'
    assert wb["Evil"]["C2"].value == -5.0  # a negative number stays a number
    assert wb["Evil"].auto_filter.ref == "A1:C2" and wb["Evil"].freeze_panes == "A2"
    texts = [c.value for row in wb["Summary"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=1+1" in texts and not any(t.startswith("=") for t in texts)
    files = write_csvs([sec], tmp_path, "evil")
    with open(files["csv:Evil"], newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][1].startswith("'=HYPERLINK") and rows[1][0] == "<script>alert('x')</script>"


def test_table_masking_follows_the_packs_pii_policy():
    import dataclasses

    from salesops.packs.render import _mask_rows

    def table() -> Table:
        return Table(
            "Leads",
            [
                Column("email", "Email", pii="email"),
                Column("phone", "Phone", pii="phone"),
                Column("detail", "Detail", pii="text"),
                Column("id", "Id"),
            ],
            [
                {
                    "email": "pat.doe@acme.example",
                    "phone": "+1-555-0122-2717",
                    "detail": "dup of kim@acme.example, call +44 20 7946 0958",
                    "id": "00QDM0000000000061",
                }
            ],
        )

    strict = get_pack("dq_scorecard")  # no PII allowed
    t = table()
    _mask_rows(t, strict)
    assert t.rows[0] == {
        "email": "p***@acme.example",
        "phone": "***17",
        "detail": "dup of k***@acme.example, call ***58",
        "id": "00QDM0000000000061",
    }
    phones_ok = dataclasses.replace(strict, allow_phones=True)
    t = table()
    _mask_rows(t, phones_ok)
    assert t.rows[0]["phone"] == "+1-555-0122-2717" and t.rows[0]["email"] == "p***@acme.example"
    assert t.rows[0]["detail"] == "dup of k***@acme.example, call +44 20 7946 0958"


def test_records_equals_plain_row_by_row_on_every_dtype():
    """packs.model.records (column-wise) gives exactly what plain() on to_dict("records") gives:
    NaN/NaT/pd.NA -> None, Decimal -> float, numpy scalars -> Python, time stamps with and without a zone."""
    from datetime import date as _date
    from decimal import Decimal as _Decimal

    import numpy as np
    import pandas as pd

    from salesops.packs.model import plain, records

    df = pd.DataFrame(
        {
            "text": pd.Series(["a", None, "c"]),
            "count": [1, 2, 3],
            "amount": [1.5, np.nan, -0.0],
            "flag": [True, False, True],
            "nullable": pd.Series([1, None, 3], dtype="Int64"),
            "ts": pd.to_datetime(["2026-01-01", None, "2026-02-03 04:05:06.123456"], format="ISO8601"),
            "ts_utc": pd.to_datetime(["2026-01-01", None, "2026-02-03"]).tz_localize("UTC"),
            "mixed": [_Decimal("1.10"), None, _Decimal("2")],
            "day": [_date(2026, 1, 1), None, _date(2026, 1, 2)],
        }
    )
    expected = [{k: plain(v) for k, v in r.items()} for r in df.to_dict("records")]
    got = records(df)
    assert got == expected
    missing = {k: v for k, v in got[1].items() if k not in ("count", "flag")}
    assert missing == dict.fromkeys(missing)  # every missing value is None, of every dtype
    assert got[0]["mixed"] == 1.1 and type(got[0]["count"]) is int and type(got[2]["ts"]) is datetime
    assert records(df.iloc[:0]) == []


def test_xlsx_sheet_keeps_max_rows_xlsx_rows_in_order_and_the_csv_keeps_every_row(tmp_path):
    """A data sheet longer than max_rows_xlsx keeps its first rows (the list's own order), the Summary
    says so and names the CSV, the CSV has every row; number formats follow the column's unit."""
    import dataclasses
    from datetime import datetime as _dt

    from openpyxl import load_workbook

    from salesops.packs.render import sheet_notes, write_csvs, write_xlsx

    rows = [{"id": f"R{i:03d}", "amount": 1000.0 + i, "seen": _dt(2026, 11, 1 + i % 28, 6)} for i in range(7)]
    table = Table(
        "Open exceptions",
        [Column("id", "Id"), Column("amount", "Amount", "currency"), Column("seen", "Seen", "datetime")],
        rows,
        sheet="Exceptions",
    )
    sec = Section("s", "S", tables=[table])
    spec = dataclasses.replace(get_pack("dq_scorecard"), max_rows_xlsx=3)
    notes = sheet_notes([sec], spec, "x")
    assert notes == [
        "sheet Exceptions: the first 3 of 7 rows (Open exceptions); every row is in the CSV file "
        "x__exceptions.csv"
    ]
    view = _view(sheet_notes=notes)
    write_xlsx(view, [sec], tmp_path / "x.xlsx", spec)
    wb = load_workbook(tmp_path / "x.xlsx")
    sheet = [[c.value for c in r] for r in wb["Exceptions"].iter_rows()]
    assert sheet == [["Id", "Amount", "Seen"]] + [[r["id"], r["amount"], r["seen"]] for r in rows[:3]]
    assert wb["Exceptions"]["B2"].number_format == "#,##0;-#,##0"
    assert wb["Exceptions"]["C2"].number_format == "yyyy-mm-dd hh:mm"
    assert wb["Exceptions"].auto_filter.ref == "A1:C4"
    assert ["Rows", notes[0]] in [[c.value for c in r][:2] for r in wb["Summary"].iter_rows()]
    files = write_csvs([sec], tmp_path, "x")
    assert files["csv:Exceptions"].endswith("x__exceptions.csv")
    with open(files["csv:Exceptions"], newline="", encoding="utf-8") as fh:
        assert [r[0] for r in csv.reader(fh)] == ["Id"] + [r["id"] for r in rows]


@pytest.mark.parametrize(
    "text",
    [
        "call +1 415 555 0100 now",
        "jane.doe@example.com wrote",
        "no pii here 2026-11-02",
        "six digits 12-34-56",
        "seven 123 4567",
        "+1 (2) 3.4",
        "id 0015000000abc",
        "12345678901",
        "٣٣٣٣٣٣٣٣٣٣",
        "fullwidth １２３４５６７８９０",
        "a@b",
        "",
    ],
)
def test_mask_pii_shortcuts_give_what_the_full_regexes_give(text):
    """mask_pii skips its regexes when a text has no "@" / fewer than 7 ASCII digits; the result is
    the same as running both of them (other scripts' digits go through the regexes)."""
    assert mask_pii(text) == mask_phone(mask_email(text))
    assert mask_pii(text, allow_emails=True) == mask_phone(text)
    assert mask_pii(text, allow_phones=True) == mask_email(text)


def test_table_digest_changes_with_any_shown_value_and_its_type_only():
    from salesops.packs.render import _table_digest

    cols = [Column("name", "Name"), Column("amount", "Amount", "currency")]

    def digest(rows):
        return _table_digest(Table("Deals", cols, rows, sheet="Deals"))

    rows = [{"name": "Acme", "amount": 1200.5}, {"name": "Globex", "amount": None}]
    base = digest(rows)
    assert len(base) == 64 and digest(copy.deepcopy(rows)) == base
    # a key that no column shows reaches no file: same digest
    assert digest([{**rows[0], "internal": 7}, rows[1]]) == base
    changed = [
        [{"name": "Acme", "amount": 1200.25}, rows[1]],  # a value
        [{"name": "Acme", "amount": "1200.5"}, rows[1]],  # the same text, another type
        [rows[0], {"name": "Globex", "amount": "None"}],  # None vs the text "None"
        [rows[1], rows[0]],  # the order
        rows[:1],  # a row fewer
    ]
    assert len({base, *(digest(r) for r in changed)}) == 1 + len(changed)


def test_duckdb_columns_equal_records_of_the_read_sql_frame(tmp_path):
    """The packs' Arrow fetch (packs.model.duckdb_columns) gives, type for type, the values
    records() gives for pandas.read_sql_query's frame of the same DuckDB result: an integer
    column with a missing value as floats, HUGEINT sums as ints, DECIMAL as float, NaN as None."""
    import warnings

    import pandas as pd
    import sqlalchemy as sa

    from salesops.packs.model import duckdb_columns, records
    from salesops.warehouse import Warehouse

    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    statement = """
        select * from (values
            (1, 10, 'a', true, date '2026-01-02', timestamp '2026-01-02 03:04:05.123456',
             1.25::decimal(18, 2), 2.5::double, 7::bigint, null::boolean, 'x'),
            (2, null, null, false, null, null, null, 'nan'::double, 8::bigint, true, null),
            (3, 30, 'c', true, date '2026-03-04', timestamp '2026-03-04 00:00:00',
             -0.5::decimal(18, 2), null, 9::bigint, false, null)
        ) as t(n, maybe, txt, flag, day, ts, dec, dbl, big, maybe_flag, mostly_null)
    """
    grouped = "select n % 2 as k, sum(n) as s, count(*) as c, avg(dbl) as a from ({}) group by 1 order by 1"
    for sql in (statement, grouped.format(statement), statement + " where n > 5"):
        with wh.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            cursor = conn.execute(sa.text(sql)).cursor
            desc = cursor.description
            to_arrow = getattr(cursor, "to_arrow_table", None) or cursor.fetch_arrow_table
            cols = duckdb_columns(to_arrow(), [d[1] for d in desc])
        with wh.connect() as conn:
            expected = records(pd.read_sql_query(sa.text(sql), conn))
        assert cols is not None
        got = [dict(zip([d[0] for d in desc], row, strict=True)) for row in zip(*cols, strict=True)]
        assert got == expected
        assert [[type(v) for v in r.values()] for r in got] == [
            [type(v) for v in r.values()] for r in expected
        ]
    with wh.connect() as conn:
        cursor = conn.execute(sa.text("select interval 1 day as i")).cursor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            table = (getattr(cursor, "to_arrow_table", None) or cursor.fetch_arrow_table)()
        assert duckdb_columns(table, [d[1] for d in cursor.description]) is None  # left to pandas


def test_company_probe_runs_only_when_the_slices_own_probe_found_nothing():
    """A scoped slice whose probe found records of every probed object needs no company-wide probe
    (its rows are a subset of the company's); one that found none still asks the company."""
    from types import SimpleNamespace

    import pandas as pd

    from salesops.packs.checks import _sections_without_data

    calls = []

    class _Wh:
        def query_file(self, relpath, params=None, **jinja):
            calls.append((relpath, params))
            return pd.DataFrame([{"open_opportunities": 0, "opportunities": 0, "leads": 5}])

    sections = [{"id": "coverage", "probe": "opportunities"}, {"id": "routing_sla", "probe": "leads"}]
    team = SimpleNamespace(scope_type="team", sections=sections)
    assert _sections_without_data(_Wh(), team, {"opportunities": 3, "leads": 2}) == []
    assert calls == []
    failures = _sections_without_data(_Wh(), team, {"opportunities": 0, "leads": 2})
    assert calls == [("packs/scope_probe.sql", {"scope_type": "all", "scope_value": "all"})]
    assert len(failures) == 1 and failures[0].startswith("section coverage: no Opportunity records loaded")
