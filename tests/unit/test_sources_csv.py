"""CSV-export source: the documented example folder, value normalisation, drift, windows, map errors."""

from __future__ import annotations

import csv
import os
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salesops.config import get_object
from salesops.sources.base import CrmSource, DeletedRecord
from salesops.sources.csv_export import ColumnMapError, CsvExportSource
from salesops.sources.registry import get_source

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "csv_export"
EXPORTED = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def read_all(src, name, since=None, until=EXPORTED):
    obj = get_object(name)
    return [
        r for page in src.read_changes(obj.api_name, obj.api_fields, obj.cursor, since, until) for r in page
    ]


@pytest.fixture(scope="module")
def example():
    return CsvExportSource(EXAMPLE)


def test_example_folder_reads_into_api_records(example):
    assert isinstance(example, CrmSource)
    assert example.server_time() == EXPORTED
    counts = {n: len(read_all(example, n)) for n in ("user", "account", "opportunity", "lead")}
    assert counts == {"user": 10, "account": 15, "opportunity": 20, "lead": 15}

    opps = {r["Id"]: r for r in read_all(example, "opportunity")}
    assert opps["OPP-0001"] == {
        "Id": "OPP-0001",
        "_origin": "opportunities.csv line 2",  # ORIGIN_KEY: the lander keeps it as raw._origin
        "Name": "Brightfold Analytics Ltd - Expansion",
        "AccountId": "ACC-002",
        "OwnerId": "USR-004",
        "StageName": "Value Proposition",
        "Amount": "15919.00",  # "15,919.00"
        "Probability": "50",  # "50%"
        "CloseDate": "2026-12-02",  # 02/12/2026, day first
        "ForecastCategoryName": "Best Case",
        "NextStep": "Book demo",
        "LastActivityDate": "2026-11-02",
        "Type": "Expansion",
        "LeadSource": "Event",
        "IsClosed": False,
        "IsWon": False,
        "Loss_Reason__c": None,
        "CreatedDate": "2026-07-02T13:01:00.000+0000",  # 14:01 British Summer Time
        "SystemModstamp": "2026-11-02T16:02:00.000+0000",  # 16:02 GMT
    }
    # the malformed row is passed through untouched for the loader to quarantine
    assert opps["OPP-0013"]["Amount"] == "n/a"
    assert opps["OPP-0013"]["StageName"] == "Closed Lost" and opps["OPP-0013"]["IsClosed"] is True

    users = {r["Id"]: r for r in read_all(example, "user")}
    assert users["USR-008"]["IsActive"] is False and users["USR-001"]["ManagerId"] is None
    assert users["USR-001"]["CreatedDate"] == "2025-02-03T09:00:00.000+0000"  # GMT in February

    acc = {r["Id"]: r for r in read_all(example, "account")}["ACC-003"]
    assert (acc["NumberOfEmployees"], acc["AnnualRevenue"]) == ("2400", "300000000.00")
    assert acc["Account Tier"] == "Gold"  # unmapped header -> extra column (schema drift)
    assert example.extra_headers == {"accounts.csv": ["Account Tier"]}

    leads = {r["Id"]: r for r in read_all(example, "lead")}
    # no modstamp column in leads.csv: every row counts as changed at exported_at
    assert {r["SystemModstamp"] for r in leads.values()} == {"2026-11-20T07:00:00.000+0000"}
    assert leads["LEAD-0003"]["OwnerId"] is None and leads["LEAD-0003"]["Assigned_At__c"] is None
    assert leads["LEAD-0005"]["IsConverted"] is True and leads["LEAD-0005"]["ConvertedDate"] == "2026-11-12"
    # objects the export does not have: nothing, no error
    assert read_all(example, "task") == []


def test_since_until_window_matches_an_independent_reading(example):
    since, until = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 15, 16, 30, tzinfo=UTC)
    london = ZoneInfo("Europe/London")
    with (EXAMPLE / "opportunities.csv").open(encoding="utf-8") as fh:
        expected = sorted(
            row["Opportunity ID"]
            for row in csv.DictReader(fh)
            if since
            < datetime.strptime(row["Last Modified"], "%d/%m/%Y %H:%M").replace(tzinfo=london).astimezone(UTC)
            <= until
        )
    got = sorted(r["Id"] for r in read_all(example, "opportunity", since, until))
    assert got == expected and 3 <= len(got) < 20
    # windows partition the data: before + inside + after = everything, no overlap
    before = read_all(example, "opportunity", None, since)
    after = read_all(example, "opportunity", until, EXPORTED)
    assert len(before) + len(got) + len(after) == 20


def _export(tmp_path: Path, files: dict[str, str], column_map: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "column_map.yaml").write_text(column_map, encoding="utf-8")
    return tmp_path


US_MAP = """
defaults:
  date_format: "%m/%d/%Y"
  datetime_format: "%m/%d/%Y %I:%M %p"
  timezone: America/New_York
  decimal_separator: ","
  thousands_separator: "."
  true_values: [Si]
  false_values: [Non]
objects:
  Opportunity:
    file: "opps_*.csv"
    columns:
      Id: Deal
      Amount: Value
      CloseDate: Close
      IsWon: Won
      Probability: Prob
      SystemModstamp: Modified
    deleted: {column: Removed, values: ["x"]}
"""


def test_formats_timezone_separators_and_malformed_values(tmp_path):
    folder = _export(
        tmp_path,
        {
            "opps_1.csv": (
                "Deal;Value;Close;Won;Prob;Modified;Removed;Region Code\n"
                "D1;1.234,50;07/04/2026;Si;12,5%;07/04/2026 09:30 AM;;N1\n"
                "D2;12,5;02/30/2026;maybe;abc;11/02/2026 11:45 PM;;\n"
                "D3;(1.000,00);12/31/2026;Non;;2026-11-01T10:00:00Z;x;N3\n"
            ).replace(";", "\t")
        },
        US_MAP.replace('thousands_separator: "."', 'thousands_separator: "."\n  delimiter: "\\t"'),
    )
    src = CsvExportSource(folder)
    recs = {r["Id"]: r for r in read_all(src, "opportunity", None, datetime(2027, 1, 1, tzinfo=UTC))}
    assert recs["D1"] == {
        "Id": "D1",
        "_origin": "opps_1.csv line 2",
        "Amount": "1234.50",
        "CloseDate": "2026-07-04",
        "IsWon": True,
        "Probability": "12.5",
        "SystemModstamp": "2026-07-04T13:30:00.000+0000",  # 09:30 EDT (UTC-4)
        "Region Code": "N1",
    }
    # malformed values come back exactly as written; the rest of the row is normalised
    assert recs["D2"]["CloseDate"] == "02/30/2026"
    assert recs["D2"]["IsWon"] == "maybe" and recs["D2"]["Probability"] == "abc"
    assert recs["D2"]["Amount"] == "12.5"  # "12,5" with a decimal comma
    assert recs["D2"]["SystemModstamp"] == "2026-11-03T04:45:00.000+0000"  # 11:45 PM EST (UTC-5)
    assert recs["D2"]["Region Code"] is None
    # the delete marker keeps D3 out of the changes and reports it as deleted
    assert "D3" not in recs
    assert src.read_deleted("Opportunity", None, datetime(2027, 1, 1, tzinfo=UTC)) == [
        DeletedRecord("D3", datetime(2026, 11, 1, 10, tzinfo=UTC))
    ]
    assert (
        src.read_deleted(
            "Opportunity", datetime(2026, 11, 1, 10, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
        )
        == []
    )


def test_int_with_a_fraction_and_grouping_errors_are_passed_through(tmp_path):
    folder = _export(
        tmp_path,
        {
            "acc.csv": 'Id,Employees,Revenue,Modified\nA1,12.5,"1,23",2026-11-01 10:00\nA2,"1,200","1,234,567.891",2026-11-01 10:00\n'
        },
        'defaults: {thousands_separator: ",", datetime_format: "%Y-%m-%d %H:%M"}\n'
        "objects:\n  Account:\n    file: acc.csv\n    columns: {Id: Id, NumberOfEmployees: Employees, AnnualRevenue: Revenue}\n"
        "    modstamp: Modified\n",
    )
    recs = {r["Id"]: r for r in read_all(CsvExportSource(folder), "account", None, EXPORTED)}
    assert (recs["A1"]["NumberOfEmployees"], recs["A1"]["AnnualRevenue"]) == ("12.5", "1,23")
    assert (recs["A2"]["NumberOfEmployees"], recs["A2"]["AnnualRevenue"]) == ("1200", "1234567.891")
    assert recs["A1"]["SystemModstamp"] == "2026-11-01T10:00:00.000+0000"


def test_missing_mapped_header_is_absent_and_reported(tmp_path):
    folder = _export(
        tmp_path,
        {"o.csv": "Deal,Modified,Owner Email\nD1,2026-11-01T10:00:00Z,rep@example.invalid\n"},
        "objects:\n  Opportunity:\n    file: o.csv\n    columns: {Id: Deal, StageName: Stage, SystemModstamp: Modified}\n",
    )
    src = CsvExportSource(folder)
    (rec,) = read_all(src, "opportunity", None, EXPORTED)
    assert rec == {
        "Id": "D1",
        "_origin": "o.csv line 2",
        "SystemModstamp": "2026-11-01T10:00:00.000+0000",
        "Owner Email": "rep@example.invalid",
    }
    assert src.missing_headers == {"o.csv": ["StageName"]}
    assert src.extra_headers == {"o.csv": ["Owner Email"]}


def test_no_modstamp_uses_file_mtime_and_latest_version_wins(tmp_path):
    folder = _export(
        tmp_path,
        {
            "opps_2026-11-13.csv": "Deal,Stage\nD1,Prospecting\nD2,Qualification\n",
            "opps_2026-11-20.csv": "Deal,Stage\nD1,Needs Analysis\n",
        },
        "objects:\n  Opportunity:\n    file: opps_*.csv\n    columns: {Id: Deal, StageName: Stage}\n",
    )
    t1, t2 = datetime(2026, 11, 13, 6, tzinfo=UTC), datetime(2026, 11, 20, 6, tzinfo=UTC)
    os.utime(folder / "opps_2026-11-13.csv", (t1.timestamp(), t1.timestamp()))
    os.utime(folder / "opps_2026-11-20.csv", (t2.timestamp(), t2.timestamp()))
    src = CsvExportSource(folder)
    assert src.server_time() == t2
    first = read_all(src, "opportunity", None, t1)
    assert [(r["Id"], r["StageName"], r["SystemModstamp"]) for r in first] == [
        ("D1", "Prospecting", "2026-11-13T06:00:00.000+0000"),
        ("D2", "Qualification", "2026-11-13T06:00:00.000+0000"),
    ]
    second = read_all(src, "opportunity", t1, t2)
    assert [(r["Id"], r["StageName"]) for r in second] == [("D1", "Needs Analysis")]
    assert src.get_records("Opportunity", ["D2", "D1", "D9"], ["StageName"]) == [
        {"Id": "D2", "StageName": "Qualification"},
        {"Id": "D1", "StageName": "Needs Analysis"},
    ]


def test_unparseable_modstamp_is_returned_once_in_the_export_window(tmp_path):
    folder = _export(
        tmp_path,
        {"o.csv": "Deal,Modified\nD1,yesterday\nD2,2026-11-01T10:00:00Z\n"},
        "defaults: {exported_at: '2026-11-20T07:00:00Z'}\n"
        "objects:\n  Opportunity:\n    file: o.csv\n    columns: {Id: Deal, SystemModstamp: Modified}\n",
    )
    src = CsvExportSource(folder)
    first = read_all(src, "opportunity", None, datetime(2026, 11, 10, tzinfo=UTC))
    second = read_all(src, "opportunity", datetime(2026, 11, 10, tzinfo=UTC), EXPORTED)
    third = read_all(src, "opportunity", EXPORTED, datetime(2026, 12, 1, tzinfo=UTC))
    assert [r["Id"] for r in first] == ["D2"]
    # the record says why the loader will quarantine it (NOTES_KEY: file, line, column, value, format)
    assert second == [
        {
            "Id": "D1",
            "_origin": "o.csv line 2",
            "SystemModstamp": "yesterday",
            "_notes": {
                "SystemModstamp": "o.csv line 2 column 'Modified': cannot parse 'yesterday' as timestamp: expected "
                "an ISO 8601 date-time such as 2026-11-01T10:00:00Z (the column map sets no datetime_formats)"
            },
        }
    ]
    assert third == []


def test_read_only():
    with pytest.raises(NotImplementedError, match="CSV exports are read-only"):
        CsvExportSource(EXAMPLE).update_records(
            "Opportunity", [{"Id": "OPP-0001", "StageName": "Closed Won"}]
        )


@pytest.mark.parametrize(
    ("column_map", "message"),
    [
        ("objects: {}", r"non-empty 'objects'"),
        ("objects:\n  Opportunity:\n    columns: {Id: Deal}\n", r"objects\.Opportunity: missing 'file'"),
        ("objects:\n  Opportunity:\n    file: o.csv\n", r"objects\.Opportunity: missing 'columns'"),
        ("objects:\n  Opportunity:\n    file: o.csv\n    colums: {Id: Deal}\n", r"unknown keys \['colums'\]"),
        (
            "defaults: {timezone: Europe/Londn}\nobjects:\n  Lead:\n    file: l.csv\n    columns: {Id: Id}\n",
            r"objects\.Lead: unknown timezone 'Europe/Londn'",
        ),
        (
            "defaults: {decimal_separator: ',', thousands_separator: ','}\nobjects:\n  Lead:\n    file: l.csv\n"
            "    columns: {Id: Id}\n",
            r"thousands_separator ',' is not allowed",
        ),
        (
            "objects:\n  Lead:\n    file: l.csv\n    columns: {Id: 12}\n",
            r"objects\.Lead\.columns\.Id: expected the CSV header",
        ),
        (
            "defaults: {exported_at: last week}\nobjects:\n  Lead:\n    file: l.csv\n    columns: {Id: Id}\n",
            r"exported_at 'last week' is not an ISO 8601",
        ),
        (
            "objects:\n  Lead:\n    file: l.csv\n    columns: {Id: Id}\n    deleted: Yes\n",
            r"objects\.Lead\.deleted: expected",
        ),
    ],
)
def test_column_map_errors_name_the_place(tmp_path, column_map, message):
    _export(tmp_path, {}, column_map)
    with pytest.raises(ColumnMapError, match=message):
        CsvExportSource(tmp_path)


def test_missing_folder_and_map(tmp_path):
    with pytest.raises(ColumnMapError, match="CSV export folder not found"):
        CsvExportSource(tmp_path / "nope")
    with pytest.raises(ColumnMapError, match="column map not found"):
        CsvExportSource(tmp_path)


def test_server_time_needs_a_file(tmp_path):
    _export(tmp_path, {}, "objects:\n  Lead:\n    file: l.csv\n    columns: {Id: Id}\n")
    with pytest.raises(Exception, match="no CSV export in .* matches the column map"):
        CsvExportSource(tmp_path).server_time()


def test_registry(monkeypatch):
    src = get_source("csv", folder=str(EXAMPLE))
    assert isinstance(src, CsvExportSource) and src.name == "csv"
    with pytest.raises(ValueError, match="source 'csv' needs folder"):
        get_source("csv")
    with pytest.raises(ValueError, match=r"source 'salesforce' does not take \['folder'\]"):
        get_source("salesforce", folder="x")
    with pytest.raises(ValueError, match="unknown source kind 'pipedrive'; expected one of demo, csv"):
        get_source("pipedrive")

    class FakeDemo:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    monkeypatch.setitem(sys.modules, "salesops_demo", types.SimpleNamespace(DemoCrm=FakeDemo))
    demo = get_source("DEMO", seed=7)
    assert isinstance(demo, FakeDemo) and demo.kwargs == {"seed": 7}


def test_example_folder_loads_through_the_warehouse(tmp_path, monkeypatch):
    """The documented example lands in staging: 19 good opportunities, OPP-0013 quarantined, re-run adds 0."""
    monkeypatch.setenv("SALESOPS_DATA_DIR", str(tmp_path))
    from salesops.ingest.pipeline import extract_and_load
    from salesops.warehouse.core import Warehouse

    wh = Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    try:
        src = get_source("csv", folder=str(EXAMPLE))
        first = {r.object: r for r in extract_and_load(src, ["user", "account", "opportunity", "lead"], wh)}
        assert {k: (r.rows_read, r.rows_inserted, r.rows_rejected) for k, r in first.items()} == {
            "user": (10, 10, 0),
            "account": (15, 15, 0),
            "opportunity": (20, 19, 1),
            "lead": (15, 15, 0),
        }
        assert first["account"].schema_added == ["Account Tier"]
        assert wh.query("select record_id, field, value from ops.quarantine") == [
            {"record_id": "OPP-0013", "field": "Amount", "value": "n/a"}
        ]
        row = wh.query(
            "select amount, close_date, probability, is_closed, system_modstamp "
            "from staging.stg_crm__opportunity where id = 'OPP-0001'"
        )[0]
        assert (str(row["amount"]), str(row["close_date"]), row["probability"], row["is_closed"]) == (
            "15919.00",
            "2026-12-02",
            50.0,
            False,
        )
        again = extract_and_load(src, ["user", "account", "opportunity", "lead"], wh)
        assert [r.rows_read for r in again] == [0, 0, 0, 0]
    finally:
        wh.dispose()
