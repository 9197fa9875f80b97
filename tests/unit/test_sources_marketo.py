"""Marketo REST source against recorded API JSON (tests/fixtures/marketo/), no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tests.fixtures.http_replay import FIXTURES, replay_session

from salesops.sources.base import CrmSource, DeletedRecord, SourceError
from salesops.sources.marketo import MarketoClient, MarketoError, MarketoSource

BASE = "https://123-ABC-456.mktorest.com"
SINCE = datetime(2026, 10, 5, tzinfo=UTC)
UNTIL = datetime(2026, 10, 8, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def mk():
    session, adapter = replay_session(FIXTURES / "marketo")
    adapter.add("GET", "/identity/oauth/token", "token.json", sticky=True)
    sleeps: list[float] = []
    clock = Clock()
    client = MarketoClient(
        BASE, "client-id-1", "CLIENT-SECRET", session=session, sleep=sleeps.append, clock=clock
    )
    return MarketoSource(client), adapter, sleeps, clock


def test_lifecycle_changes_follow_paging_tokens(mk):
    src, adapter, _, _ = mk
    assert isinstance(src, CrmSource)
    adapter.add("GET", "/rest/v1/activities/pagingtoken.json", "paging_token.json")
    adapter.add(
        "GET",
        "/rest/v1/activities.json",
        "activities_104_page1.json",
        "activities_104_page2.json",
        "activities_104_page3.json",
    )

    pages = list(
        src.read_changes(
            "LifecycleStageChange",
            ["Id", "LeadId", "FromStage", "ToStage", "ChangedAt"],
            "ChangedAt",
            SINCE,
            UNTIL,
        )
    )

    token_call, *activity_calls = adapter.calls[1:]
    assert token_call.param("sinceDatetime") == "2026-10-05T00:00:00Z"
    assert [c.param("nextPageToken") for c in activity_calls] == ["TOKEN-SINCE", "TOKEN-P2", "TOKEN-P3"]
    assert all(c.param("activityTypeIds") == "104" for c in activity_calls)
    assert all(c.headers["Authorization"] == "Bearer mkto-token-1" for c in activity_calls)
    # the empty page with moreResult=true was followed; the "Webinar Oct" change is not lifecycle;
    # the 2026-10-09 change is after `until`
    assert pages == [
        [
            {
                "Id": "50001",
                "LeadId": "301",
                "FromStage": "Lead",
                "ToStage": "MQL",
                "ChangedAt": "2026-10-05T09:00:00.000+0000",
            },
            {
                "Id": "50003",
                "LeadId": "301",
                "FromStage": "MQL",
                "ToStage": "SQL",
                "ChangedAt": "2026-10-07T15:30:00.000+0000",
            },
        ]
    ]
    assert adapter.calls[0].path == "/identity/oauth/token"
    assert adapter.calls[0].param("grant_type") == "client_credentials"


def test_rate_limit_606_is_transient_and_retried(mk):
    src, adapter, sleeps, _ = mk
    adapter.add(
        "GET", "/rest/v1/activities/pagingtoken.json", "error_606.json", "error_606.json", "paging_token.json"
    )
    adapter.add("GET", "/rest/v1/activities/deletedleads.json", "deleted_leads.json")
    assert src.read_deleted("Lead", SINCE, UNTIL) == [
        DeletedRecord("399", datetime(2026, 10, 6, 7, tzinfo=UTC))
    ]
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_expired_token_is_renewed_once_then_errors_surface(mk):
    src, adapter, _, _ = mk
    adapter.add("GET", "/rest/v1/leads.json", "error_602.json", "leads.json")
    got = src.get_records("Lead", ["301", "302"], ["Email", "Status"])
    assert [r["Id"] for r in got] == ["301", "302"]
    token_calls = [c for c in adapter.calls if c.path == "/identity/oauth/token"]
    assert len(token_calls) == 2
    lead_call = adapter.calls[-1]
    assert lead_call.param("filterType") == "id" and lead_call.param("filterValues") == "301,302"
    assert lead_call.param("fields") == "id,email,leadStatus,updatedAt"
    adapter.add("GET", "/rest/v1/leads.json", "error_1003.json")
    with pytest.raises(MarketoError, match="Marketo leads by id: 1003 Invalid filterType"):
        src.get_records("Lead", ["301"], ["Email"])


def test_token_renewed_before_expiry(mk):
    src, adapter, _, clock = mk
    adapter.add("GET", "/rest/v1/leads.json", "leads.json", sticky=True)
    src.get_records("Lead", ["301"], ["Email"])
    clock.now += 3000  # 599 s of validity left: still fine
    src.get_records("Lead", ["301"], ["Email"])
    clock.now += 560  # < 60 s left: renew first
    src.get_records("Lead", ["301"], ["Email"])
    assert sum(c.path == "/identity/oauth/token" for c in adapter.calls) == 2


def test_programs_are_campaigns(mk):
    src, adapter, _, _ = mk
    adapter.add("GET", "/rest/asset/v1/programs.json", "programs.json")
    pages = list(src.read_changes("Campaign", ["Name"], "SystemModstamp", SINCE, UNTIL))
    call = adapter.calls[-1]
    assert (call.param("earliestUpdatedAt"), call.param("latestUpdatedAt")) == (
        "2026-10-05T00:00:00Z",
        "2026-10-08T00:00:00Z",
    )
    assert (call.param("maxReturn"), call.param("offset")) == ("200", "0")
    assert pages == [
        [
            {
                "Id": "1001",
                "Name": "Lifecycle Model",
                "Type": "Nurture",
                "Status": "on",
                "ActualCost": None,
                "CreatedDate": "2025-01-10T10:00:00.000+0000",
                "SystemModstamp": "2026-10-06T12:00:00.000+0000",
            },
            {
                "Id": "1002",
                "Name": "Webinar Oct",
                "Type": "Webinar",
                "Status": None,
                "ActualCost": 1750.5,
                "CreatedDate": "2026-09-01T10:00:00.000+0000",
                "SystemModstamp": "2026-10-07T09:15:00.000+0000",
            },
        ]
    ]


def test_program_members_page_per_program(mk):
    src, adapter, _, _ = mk
    adapter.add("GET", "/rest/asset/v1/programs.json", "programs.json")
    adapter.add("GET", "/rest/v1/programs/1001/members.json", {"requestId": "x", "success": True})
    adapter.add("GET", "/rest/v1/programs/1002/members.json", "members_1002.json", "members_1002_page2.json")
    pages = list(src.read_changes("CampaignMember", ["Status"], "SystemModstamp", SINCE, UNTIL))
    member_calls = [c for c in adapter.calls if c.path.endswith("/members.json")]
    assert [(c.path, c.param("nextPageToken")) for c in member_calls] == [
        ("/rest/v1/programs/1001/members.json", None),
        ("/rest/v1/programs/1002/members.json", None),
        ("/rest/v1/programs/1002/members.json", "MEM-P2"),
    ]
    assert member_calls[1].param("filterType") == "updatedAt"
    assert (member_calls[1].param("startAt"), member_calls[1].param("endAt")) == (
        "2026-10-05T00:00:00Z",
        "2026-10-08T00:00:00Z",
    )
    assert [r for p in pages for r in p] == [
        {
            "Id": "1002-301",
            "CampaignId": "1002",
            "LeadId": "301",
            "Status": "Attended",
            "HasResponded": True,
            "FirstRespondedDate": "2026-10-06",
            "CreatedDate": "2026-09-20T10:00:00.000+0000",
            "SystemModstamp": "2026-10-06T18:00:00.000+0000",
        },
        {
            "Id": "1002-302",
            "CampaignId": "1002",
            "LeadId": "302",
            "Status": "Registered",
            "HasResponded": False,
            "FirstRespondedDate": None,
            "CreatedDate": "2026-09-21T10:00:00.000+0000",
            "SystemModstamp": "2026-10-05T08:00:00.000+0000",
        },
    ]


def _lead_activities(adapter, *activities: tuple[int, str, int]) -> None:
    """The paging token and one page of lead activities: (lead id, activity date, type id)."""
    adapter.add("GET", "/rest/v1/activities/pagingtoken.json", "paging_token.json")
    result = [
        {"id": k, "leadId": lead, "activityDate": when, "activityTypeId": kind}
        for k, (lead, when, kind) in enumerate(activities, start=1)
    ]
    adapter.add(
        "GET",
        "/rest/v1/activities.json",
        {"success": True, "moreResult": False, "nextPageToken": "T2", "result": result},
    )


def test_changed_leads_come_from_change_activities(mk):
    src, adapter, _, _ = mk
    _lead_activities(
        adapter,
        (301, "2026-10-07T15:30:00Z", 13),
        (302, "2026-10-07T16:00:00Z", 13),
        (301, "2026-10-07T16:10:00Z", 13),
    )
    adapter.add("GET", "/rest/v1/leads.json", "leads.json")
    pages = list(
        src.read_changes(
            "Lead",
            ["FirstName", "LastName", "Email", "Company", "Status", "SystemModstamp"],
            "SystemModstamp",
            SINCE,
            UNTIL,
        )
    )
    assert adapter.calls[2].param("activityTypeIds") == "12,13"
    assert adapter.calls[3].param("filterValues") == "301,302"
    # lead 302 changed again after `until`: the next window reads it
    assert pages == [
        [
            {
                "Id": "301",
                "FirstName": "Demo",
                "LastName": "Lead 301",
                "Email": "demo.lead.301@example.invalid",
                "Company": "Quorvex Systems Inc.",
                "Status": "MQL",
                "SystemModstamp": "2026-10-07T15:30:00.000+0000",
            }
        ]
    ]


def test_lead_industry_rating_and_address_come_from_the_standard_fields(mk):
    # Lead gained Industry and Rating (picklists) and the postal address (duplicate matching):
    # Marketo's standard lead fields industry, rating ("Lead Rating"), address, city, postalCode
    # and state fill them
    src, adapter, _, _ = mk
    _lead_activities(adapter, (305, "2026-10-07T15:30:00Z", 12))
    adapter.add(
        "GET",
        "/rest/v1/leads.json",
        {
            "success": True,
            "result": [
                {
                    "id": 305,
                    "lastName": "Lead 305",
                    "industry": "Manufacturing",
                    "rating": "Warm",
                    "address": "12 Lorimo Street",
                    "city": "Vakaville",
                    "postalCode": "4021",
                    "state": "QLD",
                    "updatedAt": "2026-10-07T15:30:00Z",
                }
            ],
        },
    )
    fields = ["LastName", "Industry", "Rating", "Street", "City", "PostalCode", "State", "SystemModstamp"]
    pages = list(src.read_changes("Lead", fields, "SystemModstamp", SINCE, UNTIL))
    assert adapter.calls[3].param("fields") == (
        "id,lastName,industry,rating,address,city,postalCode,state,updatedAt"
    )
    assert pages == [
        [
            {
                "Id": "305",
                "LastName": "Lead 305",
                "Industry": "Manufacturing",
                "Rating": "Warm",
                "Street": "12 Lorimo Street",
                "City": "Vakaville",
                "PostalCode": "4021",
                "State": "QLD",
                "SystemModstamp": "2026-10-07T15:30:00.000+0000",
            }
        ]
    ]


def test_read_only_and_unknown_objects(mk):
    src = mk[0]
    with pytest.raises(NotImplementedError, match="Marketo is read-only"):
        src.update_records("Lead", [{"Id": "301", "Status": "Working"}])
    assert list(src.read_changes("Opportunity", ["Id"], "SystemModstamp", None, UNTIL)) == []
    with pytest.raises(SourceError, match="supports Lead only, not Campaign"):
        src.get_records("Campaign", ["1"], ["Name"])
    with pytest.raises(SourceError, match="need the REST endpoint"):
        MarketoClient("", "id", "secret")


def test_secret_never_logged(mk, caplog):
    src, adapter, _, _ = mk
    adapter.add("GET", "/rest/v1/leads.json", "leads.json")
    with caplog.at_level("DEBUG"):
        src.get_records("Lead", ["301"], ["Email"])
    assert "CLIENT-SECRET" not in caplog.text and "mkto-token-1" not in caplog.text
    assert "/identity/oauth/token" in caplog.text  # the call is logged, without its query


def test_hook(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_MARKETO_UNIT",
        json.dumps(
            {
                "conn_type": "marketo",
                "host": "123-ABC-456.mktorest.com",
                "login": "cid",
                "password": "csecret",
            }
        ),
    )
    from salesops.sources.marketo import MarketoHook

    assert (MarketoHook.default_conn_name, MarketoHook.conn_name_attr) == (
        "marketo_default",
        "marketo_conn_id",
    )
    client = MarketoHook("marketo_unit").get_conn()
    assert client.base_url == BASE
