"""HubSpot contacts' ``date_of_birth`` -> Contact.Birthdate (issue 15: a Fellegi-Sunter field of the
contact duplicate check, mapped for Salesforce and CSV exports but not for HubSpot before).

The fake portal (tests/fakes/hubspot_api.py) keeps ``date_of_birth`` as the text a user typed.
Contacts, written by hand, and what staging must hold:

| contact | date_of_birth | staging.birthdate / ops.quarantine |
|---|---|---|
| C1 | 1984-06-02 | 1984-06-02 |
| C2 | 1969-12-31 (before the epoch) | 1969-12-31 |
| C3 | 1975-11-20T00:00:00.000Z (a date property's midnight UTC) | 1975-11-20 |
| C4 | "" (empty) | null |
| C5 | unset (null) | null |
| C6 | 14/03/1987 (not ISO) | quarantined: Birthdate '14/03/1987', reason names date_of_birth |
| C7 | 1990-02-30 (no such day) | quarantined: Birthdate '1990-02-30' |
| L1 | 1991-01-01, lifecycle stage "lead" | not a contact: not read |

2 of 7 contact rows quarantined is 28.6 %, above the default 1 % guard: the load stops naming the
field and reason; with the share raised the other five load and the two are in ops.quarantine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.fakes.hubspot_api import FakeHubSpot

from salesops.ingest.load import QuarantineShareExceeded
from salesops.ingest.pipeline import extract_and_load
from salesops.sources.hubspot import HubSpotClient, HubSpotSource
from salesops.warehouse import Warehouse

CLOCK = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REASON = (
    "HubSpot contacts property date_of_birth: cannot parse '{}' as date: expected YYYY-MM-DD or an "
    "ISO 8601 date-time"
)


def _portal(portal: FakeHubSpot) -> dict[str, str]:
    ids = {
        "C1": portal.add_contact("Ada", "Sampleton", date_of_birth="1984-06-02"),
        "C2": portal.add_contact("Bo", "Exampleby", date_of_birth="1969-12-31"),
        "C3": portal.add_contact("Cy", "Testwell", date_of_birth="1975-11-20T00:00:00.000Z"),
        "C4": portal.add_contact("Di", "Fixturely", date_of_birth=""),
        "C5": portal.add_contact("Ed", "Mockford"),
        "C6": portal.add_contact("Fay", "Stubbins", date_of_birth="14/03/1987"),
        "C7": portal.add_contact("Gil", "Fakeley", date_of_birth="1990-02-30"),
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


def test_date_of_birth_lands_as_birthdate_and_bad_values_are_quarantined(wh, monkeypatch):
    monkeypatch.setenv("SALESOPS_MAX_QUARANTINE_SHARE", "0.5")
    with FakeHubSpot(CLOCK) as portal:
        ids = _portal(portal)
        (result,) = extract_and_load(_source(portal), ["contact"], wh)
        (searched,) = [body for obj, body in portal.search_bodies if obj == "contacts"]
    assert "date_of_birth" in searched["properties"]
    assert (result.rows_read, result.rows_rejected) == (7, 2)
    staged = {r["id"]: r["birthdate"] for r in wh.query("select id, birthdate from staging.stg_crm__contact")}
    assert {k: str(v) if v is not None else None for k, v in staged.items()} == {
        ids["C1"]: "1984-06-02",
        ids["C2"]: "1969-12-31",
        ids["C3"]: "1975-11-20",
        ids["C4"]: None,
        ids["C5"]: None,
    }
    quarantined = wh.query(
        "select record_id, field, value, reason from ops.quarantine where object = 'contact' order by record_id"
    )
    assert quarantined == [
        {
            "record_id": ids["C6"],
            "field": "Birthdate",
            "value": "14/03/1987",
            "reason": REASON.format("14/03/1987"),
        },
        {
            "record_id": ids["C7"],
            "field": "Birthdate",
            "value": "1990-02-30",
            "reason": REASON.format("1990-02-30"),
        },
    ]


def test_default_quarantine_guard_stops_the_load_naming_birthdate(wh):
    with FakeHubSpot(CLOCK) as portal:
        _portal(portal)
        with pytest.raises(QuarantineShareExceeded) as err:
            extract_and_load(_source(portal), ["contact"], wh)
    message = str(err.value)
    assert "contact: 2 of 7 rows (28.6%) would be quarantined" in message
    assert f"Top reasons: Birthdate: 2 rows, e.g. {REASON.format('14/03/1987')}." in message
    assert wh.scalar("select count(*) from staging.stg_crm__contact") == 0


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
