"""HubSpot CRM v3 source against recorded API JSON (tests/fixtures/hubspot/), no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tests.fixtures.http_replay import FIXTURES, replay_session

from salesops.config import get_object
from salesops.sources.base import CrmSource, DeletedRecord, SourceError
from salesops.sources.hubspot import HubSpotClient, HubSpotSource

SINCE = datetime(2026, 10, 5, tzinfo=UTC)
UNTIL = datetime(2026, 10, 8, tzinfo=UTC)
SINCE_MS, UNTIL_MS = 1791158400000, 1791417600000  # 2026-10-05 and 2026-10-08, 00:00 UTC


@pytest.fixture()
def hs():
    session, adapter = replay_session(FIXTURES / "hubspot")
    sleeps: list[float] = []
    src = HubSpotSource(HubSpotClient("pat-na1-test", session=session, sleep=sleeps.append))
    return src, adapter, sleeps


def test_epoch_constants():
    assert int(SINCE.timestamp() * 1000) == SINCE_MS and int(UNTIL.timestamp() * 1000) == UNTIL_MS


def test_search_filters_paging_and_property_map(hs):
    src, adapter, _ = hs
    assert isinstance(src, CrmSource)
    adapter.add("GET", "/crm/v3/properties/deals", "properties_deals.json")
    adapter.add("POST", "/crm/v3/objects/deals/search", "search_deals_page1.json", "search_deals_page2.json")
    # deal -> company associations of each page (hand-written: 9001's primary company is 5001)
    primary = [{"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}]
    adapter.add(
        "POST",
        "/crm/v4/associations/deals/companies/batch/read",
        {
            "status": "COMPLETE",
            "results": [{"from": {"id": "9001"}, "to": [{"toObjectId": 5001, "associationTypes": primary}]}],
        },
        {"status": "COMPLETE", "results": []},
    )
    opp = get_object("opportunity")

    pages = list(src.read_changes("Opportunity", opp.api_fields, "SystemModstamp", SINCE, UNTIL))

    assert [len(p) for p in pages] == [2, 1]
    searches = [c for c in adapter.calls if c.url.endswith("/search")]
    first_body, second_body = searches[0].body, searches[1].body
    assert first_body["filterGroups"] == [
        {
            "filters": [
                {"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": str(SINCE_MS)},
                {"propertyName": "hs_lastmodifieddate", "operator": "LTE", "value": str(UNTIL_MS)},
            ]
        }
    ]
    assert first_body["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    assert first_body["limit"] == 100 and "after" not in first_body
    assert second_body["after"] == "2"
    assert adapter.calls[1].headers["Authorization"] == "Bearer pat-na1-test"
    # the portal lacks the two custom properties: dropped and reported
    # (and CurrencyIsoCode: a single-currency portal; its amounts are in the corporate currency)
    assert src.dropped_fields == {
        "Opportunity": ["CurrencyIsoCode", "Loss_Reason__c", "Last_Bulk_Update_Plan__c"]
    }
    assert "closed_lost_reason" not in first_body["properties"]
    assert [r["AccountId"] for p in pages for r in p] == ["5001", None, None]
    assert pages[0][0] == {
        "Id": "9001",
        "AccountId": "5001",
        "Name": "Quorvex Systems Inc. - Deal 1",
        "OwnerId": "71001",
        "StageName": "Prospecting",  # appointmentscheduled via the stage map
        "Amount": "12000",
        "Probability": 20.0,  # 0.2 -> percent
        "CloseDate": "2026-12-15",
        "ForecastCategoryName": "Pipeline",
        "NextStep": "Book demo",
        "LastActivityDate": "2026-10-01",
        "Type": "New Business",
        "IsClosed": False,
        "IsWon": False,
        "CreatedDate": "2026-09-01T10:00:00.000Z",
        "SystemModstamp": "2026-10-05T14:03:00.120Z",
    }
    won = pages[1][0]
    assert (won["StageName"], won["Type"], won["IsWon"], won["Probability"]) == (
        "Closed Won",
        "Expansion",
        True,
        100.0,
    )


def test_leads_and_contacts_split_on_lifecycle_stage(hs):
    src, adapter, _ = hs
    adapter.add(
        "GET",
        "/crm/v3/properties/contacts",
        {
            "results": [
                {"name": n}
                for n in (
                    "firstname",
                    "lastname",
                    "email",
                    "lastmodifieddate",
                    "hubspot_owner_id",
                    "lifecyclestage",
                )
            ]
        },
    )
    adapter.add("POST", "/crm/v3/objects/contacts/search", {"total": 0, "results": []}, sticky=True)
    list(
        src.read_changes(
            "Lead", ["FirstName", "Email", "OwnerId", "SystemModstamp"], "SystemModstamp", None, UNTIL
        )
    )
    list(src.read_changes("Contact", ["FirstName", "SystemModstamp"], "SystemModstamp", None, UNTIL))
    lead_filters = adapter.calls[1].body["filterGroups"][0]["filters"]
    contact_filters = adapter.calls[2].body["filterGroups"][0]["filters"]
    stages = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead"]
    assert lead_filters == [
        {"propertyName": "lastmodifieddate", "operator": "LTE", "value": str(UNTIL_MS)},
        {"propertyName": "lifecyclestage", "operator": "IN", "values": stages},
    ]
    assert contact_filters[-1] == {"propertyName": "lifecyclestage", "operator": "NOT_IN", "values": stages}
    assert "Lead" not in src.dropped_fields and "Contact" not in src.dropped_fields
    assert len(adapter.calls) == 3  # the properties list is fetched once per object type


def test_window_is_split_when_the_search_cap_is_hit(hs):
    src, adapter, _ = hs
    adapter.add("GET", "/crm/v3/properties/deals", "properties_deals.json")
    big = {"total": 12000, "results": [], "paging": {"next": {"after": "100"}}}

    def half(i):
        return {
            "total": 2,
            "results": [
                {
                    "id": str(i),
                    "properties": {
                        "dealname": f"D{i}",
                        "hs_lastmodifieddate": "2026-10-06T00:00:00Z",
                        "hs_object_id": str(i),
                    },
                }
            ],
        }

    adapter.add("POST", "/crm/v3/objects/deals/search", big, half(1), half(2))

    pages = list(src.read_changes("Opportunity", ["Name", "SystemModstamp"], "SystemModstamp", SINCE, UNTIL))

    assert [p[0]["Id"] for p in pages] == ["1", "2"]
    windows = [tuple(f["value"] for f in c.body["filterGroups"][0]["filters"]) for c in adapter.calls[1:]]
    mid = str(SINCE_MS + (UNTIL_MS - SINCE_MS) // 2)
    assert windows == [(str(SINCE_MS), str(UNTIL_MS)), (str(SINCE_MS), mid), (mid, str(UNTIL_MS))]


def test_missing_property_in_a_result_is_rejected(hs):
    src, adapter, _ = hs
    adapter.add("GET", "/crm/v3/properties/deals", "properties_deals.json")
    page = adapter.load("search_deals_page2.json")
    del page["results"][0]["properties"]["dealstage"]
    adapter.add("POST", "/crm/v3/objects/deals/search", page)
    with pytest.raises(
        SourceError, match=r"Opportunity page 1: record '9003' lacks requested field 'dealstage'"
    ):
        list(src.read_changes("Opportunity", ["StageName", "SystemModstamp"], "SystemModstamp", SINCE, UNTIL))


def test_owners_are_users(hs):
    src, adapter, _ = hs
    adapter.add("GET", "/crm/v3/owners", "owners.json", query={"archived": "false"})
    adapter.add("GET", "/crm/v3/owners", "owners_archived.json", query={"archived": "true"})
    pages = list(src.read_changes("User", get_object("user").api_fields, "SystemModstamp", SINCE, UNTIL))
    assert pages == [
        [
            {
                "Id": "71001",
                "Name": "Demo Rep 001",
                "Email": "demo.rep.001@example.invalid",
                "Team__c": "EMEA-MM",
                "IsActive": True,
                "CreatedDate": "2025-02-01T08:00:00Z",
                "SystemModstamp": "2026-10-06T08:00:00Z",
            },
            {
                "Id": "71003",
                "Name": "Demo Rep 003",
                "Email": "demo.rep.003@example.invalid",
                "Team__c": None,
                "IsActive": False,
                "CreatedDate": "2025-02-01T08:00:00Z",
                "SystemModstamp": "2026-10-07T12:00:00Z",
            },
        ]
    ]  # 71002 was last updated before the window


def test_archived_objects_are_deletes(hs):
    src, adapter, _ = hs
    adapter.add("GET", "/crm/v3/objects/deals", "archived_deals.json", query={"archived": "true"})
    assert src.read_deleted("Opportunity", SINCE, UNTIL) == [
        DeletedRecord("9007", datetime(2026, 10, 6, 11, tzinfo=UTC))
    ]


def test_batch_update_100_per_call_and_per_record_results(hs):
    src, adapter, _ = hs
    ok_chunk = {"status": "COMPLETE", "results": [{"id": str(i)} for i in range(10000, 10100)]}
    adapter.add("POST", "/crm/v3/objects/deals/batch/update", ok_chunk)
    adapter.add("POST", "/crm/v3/objects/deals/batch/update", "batch_update_207.json", status=207)
    updates = [{"Id": str(i), "StageName": "Closed Lost"} for i in range(10000, 10100)]
    updates += [
        {"Id": "9001", "CloseDate": "2026-12-31"},
        {"Id": "9002", "Probability": 90},
        {"Id": "9999", "StageName": "Negotiation/Review"},
    ]

    results = src.update_records("Opportunity", updates)

    assert [len(c.body["inputs"]) for c in adapter.calls] == [100, 3]
    assert adapter.calls[0].body["inputs"][0] == {"id": "10000", "properties": {"dealstage": "closedlost"}}
    assert adapter.calls[1].body["inputs"] == [
        {"id": "9001", "properties": {"closedate": "2026-12-31"}},
        {"id": "9002", "properties": {"hs_deal_stage_probability": 0.9}},
        {"id": "9999", "properties": {"dealstage": "negotiation"}},
    ]
    assert len(results) == 103 and all(r.success for r in results[:101])
    assert (results[101].id, results[101].success, results[101].transient) == ("9002", False, True)
    assert results[101].errors == ["RATE_LIMITS: You have reached your secondly limit."]
    assert (results[102].id, results[102].success, results[102].transient) == ("9999", False, False)
    assert results[102].errors[0].startswith("OBJECT_NOT_FOUND: ")


def test_rejected_batch_names_the_bad_record(hs):
    src, adapter, _ = hs
    adapter.add(
        "POST",
        "/crm/v3/objects/deals/batch/update",
        {
            "status": 400,
            "json": {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": "Property values were not valid",
                "context": {"ids": ["9002"]},
            },
        },
    )
    results = src.update_records(
        "Opportunity", [{"Id": "9001", "NextStep": "x"}, {"Id": "9002", "NextStep": "y"}]
    )
    assert [(r.id, r.success, r.transient) for r in results] == [
        ("9001", False, True),
        ("9002", False, False),
    ]
    assert results[1].errors == ["VALIDATION_ERROR: Property values were not valid"]


def test_update_validation(hs):
    src = hs[0]
    with pytest.raises(ValueError, match=r"update #0 \(9001\): field 'Territory__c' has no HubSpot property"):
        src.update_records("Opportunity", [{"Id": "9001", "Territory__c": "EMEA"}])
    with pytest.raises(ValueError, match=r"StageName='Won Big' has no HubSpot value in stage_map"):
        src.update_records("Opportunity", [{"Id": "9001", "StageName": "Won Big"}])
    with pytest.raises(ValueError, match=r"update #1 has no 'Id'"):
        src.update_records("Opportunity", [{"Id": "1", "NextStep": "a"}, {"NextStep": "b"}])


def test_batch_read(hs):
    src, adapter, _ = hs
    adapter.add("GET", "/crm/v3/properties/deals", "properties_deals.json")
    adapter.add("POST", "/crm/v3/objects/deals/batch/read", "batch_read_deals.json")
    got = src.get_records("Opportunity", ["9001", "9404"], ["StageName", "CloseDate"])
    assert got == [{"Id": "9001", "StageName": "Prospecting", "CloseDate": "2026-12-15"}]
    assert adapter.calls[-1].body == {
        "properties": ["closedate", "dealstage"],
        "inputs": [{"id": "9001"}, {"id": "9404"}],
    }


def test_server_time_is_date_header_minus_search_lag(hs):
    src, adapter, _ = hs
    adapter.add(
        "GET",
        "/crm/v3/owners",
        {"status": 200, "json": {"results": []}, "headers": {"Date": "Thu, 08 Oct 2026 06:12:45 GMT"}},
    )
    assert src.server_time() == datetime(2026, 10, 8, 6, 12, 15, tzinfo=UTC)


def test_429_is_retried_with_retry_after(hs):
    src, adapter, sleeps = hs
    adapter.add(
        "GET",
        "/crm/v3/objects/deals",
        {"status": 429, "json": {"category": "RATE_LIMITS"}, "headers": {"Retry-After": "2"}},
        "archived_deals.json",
    )
    assert len(src.read_deleted("Opportunity", None, UNTIL)) == 2
    assert len(sleeps) == 1 and 2 <= sleeps[0] < 2.2


def test_hook_reads_token_from_password(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_UNIT", json.dumps({"conn_type": "hubspot", "password": "pat-eu1-x"})
    )
    from salesops.sources.hubspot import HubSpotCrmHook

    assert (HubSpotCrmHook.default_conn_name, HubSpotCrmHook.conn_name_attr) == (
        "hubspot_default",
        "hubspot_conn_id",
    )
    client = HubSpotCrmHook("hubspot_unit").get_conn()
    assert client.base_url == "https://api.hubapi.com" and client.auth_headers() == {
        "Authorization": "Bearer pat-eu1-x"
    }
    with pytest.raises(SourceError, match="no private-app token"):
        HubSpotClient("")
