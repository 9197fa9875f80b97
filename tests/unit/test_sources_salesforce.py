"""Salesforce REST source against recorded API JSON (tests/fixtures/salesforce/), no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tests.fixtures.http_replay import FIXTURES, replay_session

from salesops.config import get_object
from salesops.sources.base import CrmSource, DeletedRecord, SourceError
from salesops.sources.http import ApiError
from salesops.sources.salesforce import SalesforceClient, SalesforceSource, client_from_connection

V = "/services/data/v62.0"
INSTANCE = "https://quorvex-demo.my.salesforce.com"
SINCE = datetime(2026, 10, 5, 0, 0, 0, 250000, tzinfo=UTC)
UNTIL = datetime(2026, 10, 8, 0, 0, 0, tzinfo=UTC)


@pytest.fixture()
def sf():
    session, adapter = replay_session(FIXTURES / "salesforce")
    sleeps: list[float] = []
    client = SalesforceClient(INSTANCE, access_token="tok-123", session=session, sleep=sleeps.append)
    src = SalesforceSource(client)
    return src, adapter, sleeps


def test_is_a_crm_source(sf):
    assert isinstance(sf[0], CrmSource)


def test_read_changes_pages_soql_and_dropped_fields(sf):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/sobjects/Opportunity/describe", "describe_Opportunity.json")
    adapter.add("GET", f"{V}/query", "query_Opportunity_page1.json")
    adapter.add("GET", f"{V}/query/01gEX0000000001AAA-2000", "query_Opportunity_page2.json")
    opp = get_object("opportunity")

    pages = list(src.read_changes("Opportunity", opp.api_fields, "SystemModstamp", SINCE, UNTIL))

    assert [len(p) for p in pages] == [2, 1]
    # the org lacks the two custom fields: dropped from the SOQL and reported
    # (and CurrencyIsoCode: a single-currency org; its amounts are in the corporate currency;
    # and Pricebook2Id: the recorded org has Products switched off, so its describe lacks it)
    absent = {"CurrencyIsoCode", "Pricebook2Id"}
    assert src.dropped_fields == {
        "Opportunity": ["CurrencyIsoCode", "Pricebook2Id", "Loss_Reason__c", "Last_Bulk_Update_Plan__c"]
    }
    query_call = adapter.calls[1]
    expected_fields = [f for f in opp.api_fields if not f.endswith("__c") and f not in absent]
    assert query_call.param("q") == (
        f"SELECT {', '.join(expected_fields)} FROM Opportunity "
        # the window starts overlap_seconds (60) before the watermark: the boundary is read again
        "WHERE SystemModstamp > 2026-10-04T23:59:00Z AND SystemModstamp <= 2026-10-08T00:00:00Z "
        "ORDER BY SystemModstamp, Id"
    )
    assert query_call.headers["Authorization"] == "Bearer tok-123"
    assert query_call.headers["Sforce-Query-Options"] == "batchSize=2000"
    # the second page follows nextRecordsUrl without re-sending the query
    assert adapter.calls[2].path == f"{V}/query/01gEX0000000001AAA-2000" and adapter.calls[2].query == {}
    first = pages[0][0]
    assert "attributes" not in first
    assert first["Id"] == "006EX0000000001AAA" and first["Amount"] == 12000.0
    assert first["SystemModstamp"] == "2026-10-05T14:03:00.000+0000"
    assert set(first) == set(expected_fields)
    assert pages[1][0]["IsWon"] is True


def test_first_load_has_no_lower_bound(sf):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/sobjects/Opportunity/describe", "describe_Opportunity.json")
    adapter.add("GET", f"{V}/query", {"totalSize": 0, "done": True, "records": []})
    assert (
        list(src.read_changes("Opportunity", ["Id", "SystemModstamp"], "SystemModstamp", None, UNTIL)) == []
    )
    assert adapter.calls[1].param("q") == (
        "SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp <= 2026-10-08T00:00:00Z "
        "ORDER BY SystemModstamp, Id"
    )


def test_relationship_field_is_flattened(sf):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/sobjects/User/describe", "describe_User.json")
    adapter.add("GET", f"{V}/query", "query_User.json")
    pages = list(src.read_changes("User", get_object("user").api_fields, "SystemModstamp", None, UNTIL))
    assert "UserRole.Name" in adapter.calls[1].param("q")
    assert [r["UserRole"] for r in pages[0]] == ["Account Executive", None]
    assert src.dropped_fields == {}


def test_missing_optional_object_is_skipped_but_core_object_fails(sf, caplog):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/sobjects/ForecastingQuota/describe", "describe_not_found.json", status=404)
    adapter.add("GET", f"{V}/sobjects/Contact/describe", "describe_not_found.json", status=404)
    with caplog.at_level("INFO"):
        assert list(src.read_changes("ForecastingQuota", ["Id"], "SystemModstamp", None, UNTIL)) == []
    assert "no ForecastingQuota object; skipping" in caplog.text
    assert src.read_deleted("ForecastingQuota", SINCE, UNTIL) == []
    with pytest.raises(SourceError, match="org has no Contact object"):
        list(src.read_changes("Contact", ["Id"], "SystemModstamp", None, UNTIL))
    assert len(adapter.calls) == 2  # describe is cached


def test_record_missing_a_requested_field_is_rejected(sf):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/sobjects/Opportunity/describe", "describe_Opportunity.json")
    bad = adapter.load("query_Opportunity_page2.json")
    del bad["records"][0]["StageName"]
    adapter.add("GET", f"{V}/query", bad)
    with pytest.raises(
        SourceError,
        match=r"Opportunity page 1: record '006EX0000000003AAA' lacks requested field 'StageName'",
    ):
        list(src.read_changes("Opportunity", ["StageName", "SystemModstamp"], "SystemModstamp", None, UNTIL))


def test_record_outside_the_window_is_rejected(sf):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/sobjects/Opportunity/describe", "describe_Opportunity.json")
    adapter.add("GET", f"{V}/query", "query_Opportunity_page2.json")
    with pytest.raises(SourceError, match="outside the requested window"):
        list(
            src.read_changes(
                "Opportunity", ["SystemModstamp"], "SystemModstamp", SINCE, datetime(2026, 10, 7, tzinfo=UTC)
            )
        )


def test_429_retry_after_is_honoured(sf):
    src, adapter, sleeps = sf
    adapter.add("GET", f"{V}/sobjects/Opportunity/describe", "describe_Opportunity.json")
    adapter.add(
        "GET",
        f"{V}/query",
        {"status": 429, "json": [{"errorCode": "REQUEST_LIMIT_EXCEEDED"}], "headers": {"Retry-After": "7"}},
        {"status": 503, "json": {"error": "unavailable"}},
        # the last page of another query alone: as the only page, its totalSize is 1
        {
            **json.loads((FIXTURES / "salesforce" / "query_Opportunity_page2.json").read_text()),
            "totalSize": 1,
        },
    )
    pages = list(src.read_changes("Opportunity", ["SystemModstamp"], "SystemModstamp", None, UNTIL))
    assert len(pages[0]) == 1
    assert len(sleeps) == 2
    assert 7 <= sleeps[0] < 7.2  # Retry-After plus a little jitter
    assert 1.0 <= sleeps[1] <= 2.0  # no Retry-After: backoff 2 s for the 2nd retry, jittered into [1, 2]


def test_retries_have_a_hard_cap(sf):
    src, adapter, sleeps = sf
    src.client.max_attempts = 3
    adapter.add("GET", f"{V}/limits", {"status": 500, "json": {"error": "boom"}}, sticky=True)
    with pytest.raises(ApiError, match=r"HTTP 500 after 3 attempts") as err:
        src.server_time()
    assert err.value.transient and len(sleeps) == 2 and len(adapter.calls) == 3


def test_server_time_from_date_header(sf):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/limits", "limits.json", headers={"Date": "Thu, 08 Oct 2026 06:12:45 GMT"})
    # settle_seconds (60) behind the server clock: late commits in the last second fall into the next window
    assert src.server_time() == datetime(2026, 10, 8, 6, 11, 45, tzinfo=UTC)


def test_read_deleted(sf):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/sobjects/Opportunity/describe", "describe_Opportunity.json")
    adapter.add("GET", f"{V}/sobjects/Opportunity/deleted/", "deleted_Opportunity.json")
    until = datetime(2026, 10, 7, 12, tzinfo=UTC)
    got = src.read_deleted("Opportunity", SINCE, until)
    # the second delete (16:45) lies after `until`: not in this window
    assert got == [DeletedRecord("006EX0000000007AAA", datetime(2026, 10, 6, 11, tzinfo=UTC))]
    call = adapter.calls[-1]
    assert (
        call.param("start") == "2026-10-05T00:00:00+00:00"
        and call.param("end") == "2026-10-07T12:00:00+00:00"
    )
    assert src.read_deleted("Opportunity", None, until) == []  # first load: nothing to delete


def test_update_records_chunks_of_200_and_per_record_results(sf):
    src, adapter, _ = sf
    ids = [f"006EX{i:010d}AAA" for i in range(203)]
    first_chunk = [{"id": i, "success": True, "errors": []} for i in ids[:200]]
    adapter.add("PATCH", f"{V}/composite/sobjects", first_chunk)
    second = adapter.load("update_results.json")
    adapter.add("PATCH", f"{V}/composite/sobjects", second)
    updates = [{"Id": i, "CloseDate": "2026-12-31", "Last_Bulk_Update_Plan__c": "plan-7"} for i in ids]

    results = src.update_records("Opportunity", updates)

    bodies = [c.body for c in adapter.calls]
    assert [len(b["records"]) for b in bodies] == [200, 3]
    assert all(b["allOrNone"] is False for b in bodies)
    assert bodies[1]["records"][0] == {
        "attributes": {"type": "Opportunity"},
        "id": ids[200],
        "CloseDate": "2026-12-31",
        "Last_Bulk_Update_Plan__c": "plan-7",
    }
    assert len(results) == 203 and all(r.success for r in results[:201])
    lock, invalid = results[201], results[202]
    assert (lock.id, lock.success, lock.transient) == (ids[201], False, True)
    assert lock.errors == ["UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record"]
    assert (invalid.id, invalid.success, invalid.transient) == (ids[202], False, False)
    assert invalid.errors == [
        "FIELD_CUSTOM_VALIDATION_EXCEPTION: Close Date cannot be in the past (fields ['CloseDate'])"
    ]


def test_update_chunk_outage_gives_transient_results(sf):
    src, adapter, _ = sf
    src.client.max_attempts = 2
    adapter.add("PATCH", f"{V}/composite/sobjects", {"status": 503, "json": {"error": "down"}}, sticky=True)
    results = src.update_records("Opportunity", [{"Id": "006A", "StageName": "Closed Lost"}])
    assert [(r.id, r.success, r.transient) for r in results] == [("006A", False, True)]


def test_update_validation():
    src = SalesforceSource(SalesforceClient(INSTANCE, access_token="x"))
    with pytest.raises(ValueError, match=r"update #1 has no 'Id'"):
        src.update_records("Opportunity", [{"Id": "006A", "StageName": "X"}, {"StageName": "Y"}])
    with pytest.raises(ValueError, match=r"update #0 \(006A\) sets no field"):
        src.update_records("Opportunity", [{"Id": "006A"}])


def test_get_records(sf):
    src, adapter, _ = sf
    adapter.add("GET", f"{V}/sobjects/Opportunity/describe", "describe_Opportunity.json")
    adapter.add("GET", f"{V}/composite/sobjects/Opportunity", "retrieve_Opportunity.json")
    got = src.get_records(
        "Opportunity", ["006EX0000000001AAA", "006GONE", "006EX0000000003AAA"], ["StageName", "CloseDate"]
    )
    assert got == [
        {"Id": "006EX0000000001AAA", "StageName": "Prospecting", "CloseDate": "2026-12-15"},
        {"Id": "006EX0000000003AAA", "StageName": "Closed Won", "CloseDate": "2026-10-07"},
    ]
    call = adapter.calls[-1]
    assert call.param("ids") == "006EX0000000001AAA,006GONE,006EX0000000003AAA"
    assert call.param("fields") == "Id,StageName,CloseDate"


def test_expired_token_is_refreshed_once():
    session, adapter = replay_session(FIXTURES / "salesforce")
    tokens = iter(["tok-1", "tok-2"])
    client = SalesforceClient(None, authenticate=lambda: (INSTANCE, next(tokens)), session=session)
    adapter.add(
        "GET",
        f"{V}/limits",
        {"status": 401, "json": [{"errorCode": "INVALID_SESSION_ID"}]},
        {"status": 200, "json": {}, "headers": {"Date": "Thu, 08 Oct 2026 06:12:45 GMT"}},
    )
    SalesforceSource(client).server_time()
    assert [c.headers["Authorization"] for c in adapter.calls] == ["Bearer tok-1", "Bearer tok-2"]
    assert adapter.calls[0].url.startswith(INSTANCE)


def test_client_credentials_flow_and_no_secret_in_logs(caplog):
    session, adapter = replay_session()
    adapter.add(
        "POST",
        "/services/oauth2/token",
        {"access_token": "SECRET-TOKEN", "instance_url": INSTANCE, "token_type": "Bearer"},
    )
    adapter.add(
        "GET",
        f"{V}/limits",
        {"status": 200, "json": {}, "headers": {"Date": "Thu, 08 Oct 2026 06:12:45 GMT"}},
    )
    client = client_from_connection(
        None,
        None,
        {"instance_url": INSTANCE, "consumer_key": "ck", "consumer_secret": "CS-SECRET"},
        session=session,
    )
    with caplog.at_level("DEBUG"):
        SalesforceSource(client).server_time()
    assert adapter.calls[0].body == {
        "grant_type": "client_credentials",
        "client_id": "ck",
        "client_secret": "CS-SECRET",
    }
    assert adapter.calls[1].headers["Authorization"] == "Bearer SECRET-TOKEN"
    assert "SECRET" not in caplog.text


def test_connection_without_credentials_is_rejected():
    with pytest.raises(SourceError, match="give extras instance_url\\+access_token"):
        client_from_connection(None, None, {"domain": "test"})


def test_hook_builds_client_from_airflow_connection(monkeypatch):
    import json

    monkeypatch.setenv(
        "AIRFLOW_CONN_SALESFORCE_UNIT",
        json.dumps(
            {
                "conn_type": "salesforce",
                "extra": {"instance_url": INSTANCE, "access_token": "tok-abc", "version": "61.0"},
            }
        ),
    )
    from salesops.sources.salesforce import SalesforceCrmHook

    assert SalesforceCrmHook.default_conn_name == "salesforce_default"
    assert SalesforceCrmHook.conn_name_attr == "salesforce_conn_id"
    hook = SalesforceCrmHook("salesforce_unit")
    client = hook.get_conn()
    assert client is hook.get_conn()  # cached
    assert client.base_url == INSTANCE and client.data_path("limits") == "/services/data/v61.0/limits"
    assert client.auth_headers() == {"Authorization": "Bearer tok-abc"}
