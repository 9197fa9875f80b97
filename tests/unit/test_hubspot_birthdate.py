"""HubSpot contacts' ``date_of_birth`` -> Contact.Birthdate (issue 15: a Fellegi-Sunter field of the
contact duplicate check, mapped for Salesforce and CSV exports but not for HubSpot before).

The fake portal (tests/fakes/hubspot_api.py) keeps ``date_of_birth`` as the text a user typed.
Birthdate is optional, read-only and read by no metric or check: objects.yaml marks it
``on_bad_value: warn``, so a value that is not a date does not cost the contact (issue 15: nothing
is lost for an optional field): the contact loads with Birthdate empty and ops.quarantine keeps
the value as a 'warning' row (record id, field, value, the expected format), counted in
rows_warned, never in rows_rejected. Contacts, written by hand, and what staging must hold:

| contact | date_of_birth | staging.birthdate / ops.quarantine |
|---|---|---|
| C1 | 1984-06-02 | 1984-06-02 |
| C2 | 1969-12-31 (before the epoch) | 1969-12-31 |
| C3 | 1975-11-20T00:00:00.000Z (a date property's midnight UTC) | 1975-11-20 |
| C4 | "" (empty) | null |
| C5 | unset (null) | null |
| C6 | 14/03/1987 (not ISO) | null; warning: Birthdate '14/03/1987', reason names date_of_birth |
| C7 | 1990-02-30 (no such day) | null; warning: Birthdate '1990-02-30' |
| C8 | March 3rd (free text) | null; warning |
| C9 | n/a | null; warning |
| L1 | 1991-01-01, lifecycle stage "lead" | not a contact: not read |

4 of 9 contacts with a warning is far above the default 1 % quarantine guard, which counts only
rows kept out of staging: all nine load with the default guard.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.fakes.hubspot_api import FakeHubSpot

from salesops.ingest.pipeline import extract_and_load
from salesops.sources.hubspot import HubSpotClient, HubSpotSource
from salesops.warehouse import Warehouse

CLOCK = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REASON = (
    "HubSpot contacts property date_of_birth: cannot parse '{}' as date: expected YYYY-MM-DD or an "
    "ISO 8601 date-time"
)
LOADED = "; the record is loaded with Birthdate empty (optional field, objects.yaml on_bad_value: warn)"


def _portal(portal: FakeHubSpot) -> dict[str, str]:
    ids = {
        "C1": portal.add_contact("Ada", "Sampleton", date_of_birth="1984-06-02"),
        "C2": portal.add_contact("Bo", "Exampleby", date_of_birth="1969-12-31"),
        "C3": portal.add_contact("Cy", "Testwell", date_of_birth="1975-11-20T00:00:00.000Z"),
        "C4": portal.add_contact("Di", "Fixturely", date_of_birth=""),
        "C5": portal.add_contact("Ed", "Mockford"),
        "C6": portal.add_contact("Fay", "Stubbins", date_of_birth="14/03/1987"),
        "C7": portal.add_contact("Gil", "Fakeley", date_of_birth="1990-02-30"),
        "C8": portal.add_contact("Ivy", "Placeholt", date_of_birth="March 3rd"),
        "C9": portal.add_contact("Jo", "Dummond", date_of_birth="n/a"),
        "L1": portal.add_contact("Hal", "Leadson", lifecyclestage="lead", date_of_birth="1991-01-01"),
    }
    portal.tick(timedelta(minutes=5))
    return ids


def _source(portal: FakeHubSpot) -> HubSpotSource:
    return HubSpotSource(HubSpotClient("pat-synthetic", portal.url, sleep=lambda s: None))


@pytest.fixture()
def wh(tmp_path):
    w = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    yield w
    w.dispose()


def test_date_of_birth_lands_and_a_value_that_is_not_a_date_loads_the_contact_with_a_warning(wh):
    with FakeHubSpot(CLOCK) as portal:
        ids = _portal(portal)
        (result,) = extract_and_load(_source(portal), ["contact"], wh)
        (searched,) = [body for obj, body in portal.search_bodies if obj == "contacts"]
    assert "date_of_birth" in searched["properties"]
    assert (result.rows_read, result.rows_inserted, result.rows_rejected, result.rows_warned) == (9, 9, 0, 4)
    staged = {r["id"]: r["birthdate"] for r in wh.query("select id, birthdate from staging.stg_crm__contact")}
    assert {k: str(v) if v is not None else None for k, v in staged.items()} == {
        ids["C1"]: "1984-06-02",
        ids["C2"]: "1969-12-31",
        ids["C3"]: "1975-11-20",
        ids["C4"]: None,
        ids["C5"]: None,
        ids["C6"]: None,
        ids["C7"]: None,
        ids["C8"]: None,
        ids["C9"]: None,
    }
    warned = wh.query(
        "select record_id, field, value, reason, severity from ops.quarantine where object = 'contact' "
        "order by record_id"
    )
    assert warned == [
        {
            "record_id": ids[c],
            "field": "Birthdate",
            "value": value,
            "reason": REASON.format(value) + LOADED,
            "severity": "warning",
        }
        for c, value in sorted(
            [("C6", "14/03/1987"), ("C7", "1990-02-30"), ("C8", "March 3rd"), ("C9", "n/a")],
            key=lambda cv: ids[cv[0]],
        )
    ]
    audit = wh.query(
        "select rows_read, rows_rejected, rows_warned from ops.load_audit where object = 'contact'"
    )
    assert audit == [{"rows_read": 9, "rows_rejected": 0, "rows_warned": 4}]


def test_a_required_field_still_quarantines_the_contact_and_a_bad_birthdate_is_then_an_error(wh, monkeypatch):
    """The warning is only for an otherwise good row: a contact whose change stamp (required) is
    missing stays out of staging, and its bad Birthdate is listed with it as an error."""
    monkeypatch.setenv("SALESOPS_MAX_QUARANTINE_SHARE", "0.5")
    with FakeHubSpot(CLOCK) as portal:
        ids = _portal(portal)
        src = _source(portal)
        real = src._to_record

        def without_stamp(obj, specs, hs_object=None):
            rec = real(obj, specs, hs_object)
            if rec["Id"] == ids["C6"]:
                rec["SystemModstamp"] = None
            return rec

        monkeypatch.setattr(src, "_to_record", without_stamp)
        (result,) = extract_and_load(src, ["contact"], wh)
    assert (result.rows_read, result.rows_rejected, result.rows_warned) == (9, 1, 3)
    staged = {r["id"] for r in wh.query("select id from staging.stg_crm__contact")}
    assert ids["C6"] not in staged and len(staged) == 8
    c6 = wh.query(
        "select field, severity, reason from ops.quarantine where record_id = :r order by field",
        {"r": ids["C6"]},
    )
    assert c6 == [
        {"field": "Birthdate", "severity": "error", "reason": REASON.format("14/03/1987")},
        {
            "field": "SystemModstamp",
            "severity": "error",
            "reason": c6[1]["reason"],
        },
    ]
    assert c6[1]["reason"].startswith("missing required field SystemModstamp")


def test_birthdate_is_never_written_back(wh):
    """Birthdate is read-only for the pipeline (hubspot.yaml ``read_only``): an update naming it is
    refused before any HubSpot call; other Contact fields still map back."""
    with FakeHubSpot(CLOCK) as portal:
        ids = _portal(portal)
        src = _source(portal)
        with pytest.raises(ValueError, match=r"Contact update #1 \(\d+\): Birthdate is read-only"):
            src.update_records(
                "Contact",
                [{"Id": ids["C1"], "Title": "Analyst"}, {"Id": ids["C2"], "Birthdate": "1970-01-01"}],
            )
        assert not [c for c in portal.calls if c[1].endswith("/batch/update")]
        assert src._to_properties("Contact", {"Id": ids["C1"], "Title": "Analyst"}, 0) == {
            "jobtitle": "Analyst"
        }
