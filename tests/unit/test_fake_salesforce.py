"""The stateful fake Salesforce org itself, driven by the project's REST connector."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from tests.fakes.fixtures import seed_opportunities
from tests.fakes.salesforce_api import FakeSalesforce

from salesops.sources.http import ApiError
from salesops.sources.salesforce import SalesforceClient, SalesforceSource, client_from_connection

FIELDS = ["Id", "Name", "Amount", "StageName", "SystemModstamp"]


def _source(fake: FakeSalesforce, **kw) -> SalesforceSource:
    client = SalesforceClient(fake.url, access_token=fake.issue_token(), sleep=lambda s: None, **kw)
    return SalesforceSource(client, page_size=200)


def test_rest_pages_follow_next_records_url_and_match_the_org(fake_sf):
    ids = seed_opportunities(fake_sf, 450)
    src = _source(fake_sf)
    pages = list(src.read_changes("Opportunity", FIELDS, "SystemModstamp", None, fake_sf.clock))
    assert [len(p) for p in pages] == [200, 200, 50]
    assert [r["Id"] for p in pages for r in p] == ids  # ordered by SystemModstamp, Id
    assert fake_sf.calls_to(r"/query$") == 1 and fake_sf.calls_to(r"/query/01gFAKE") == 2
    assert pages[0][0]["Amount"] == fake_sf.objects["Opportunity"].records[ids[0]]["Amount"]


def test_incremental_window_and_deletes_from_the_org_state(fake_sf):
    ids = seed_opportunities(fake_sf, 10)
    src = _source(fake_sf)
    since = fake_sf.clock
    fake_sf.tick(timedelta(hours=1))
    fake_sf.update("Opportunity", ids[3], StageName="Closed Won")
    fake_sf.delete("Opportunity", ids[5])
    until = fake_sf.tick()
    changed = [r for p in src.read_changes("Opportunity", FIELDS, "SystemModstamp", since, until) for r in p]
    assert [r["Id"] for r in changed] == [ids[3]]  # query (not queryAll) hides the deleted one
    deleted = src.read_deleted("Opportunity", since, until)
    assert [d.id for d in deleted] == [ids[5]]


def test_deletes_are_purged_after_15_days(fake_sf):
    ids = seed_opportunities(fake_sf, 3)
    fake_sf.delete("Opportunity", ids[0])
    fake_sf.tick(timedelta(days=16))
    assert ids[0] not in fake_sf.objects["Opportunity"].records
    assert fake_sf.objects["Opportunity"].delete_log == []


def test_limit_header_counts_every_data_call(fake_sf):
    fake_sf.api_used = 40
    seed_opportunities(fake_sf, 1)
    src = _source(fake_sf)
    src.server_time()
    response = src.client.last_response
    assert response.headers["Sforce-Limit-Info"] == f"api-usage=41/{fake_sf.api_max}"
    body = src.client.get_json(src.client.data_path("limits"))
    assert body["DailyApiRequests"] == {"Max": fake_sf.api_max, "Remaining": fake_sf.api_max - 42}


def test_query_timeout_fault_is_an_error_not_an_empty_page(fake_sf):
    seed_opportunities(fake_sf, 5)
    fake_sf.query_timeout_next()
    src = _source(fake_sf)
    with pytest.raises(ApiError, match="QUERY_TIMEOUT"):
        list(src.read_changes("Opportunity", FIELDS, "SystemModstamp", None, fake_sf.clock))


def test_5xx_fault_is_retried_by_the_client(fake_sf):
    seed_opportunities(fake_sf, 5)
    fake_sf.fail_next(r"/query$", 503, times=2)
    src = _source(fake_sf)
    rows = [
        r for p in src.read_changes("Opportunity", FIELDS, "SystemModstamp", None, fake_sf.clock) for r in p
    ]
    assert len(rows) == 5 and fake_sf.calls_to(r"/query$") == 3


def test_bulk_job_lifecycle_and_locators(fake_sf):
    seed_opportunities(fake_sf, 25)
    fake_sf.poll_steps = 2
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {fake_sf.issue_token()}"
    base = f"{fake_sf.url}/services/data/v62.0/jobs/query"
    job = s.post(base, json={"operation": "queryAll", "query": "SELECT Id, Name FROM Opportunity"}).json()
    assert job["state"] == "UploadComplete"
    states = [s.get(f"{base}/{job['id']}").json()["state"] for _ in range(2)]
    assert states == ["InProgress", "JobComplete"]
    r1 = s.get(f"{base}/{job['id']}/results", params={"maxRecords": 10})
    assert r1.headers["Sforce-NumberOfRecords"] == "10" and r1.text.startswith('"Id","Name"\n')
    r3 = s.get(f"{base}/{job['id']}/results", params={"maxRecords": 10, "locator": "MjA="})
    assert r3.headers["Sforce-NumberOfRecords"] == "5" and r3.headers["Sforce-Locator"] == "null"
    assert r1.headers["Sforce-Locator"] == "MTA="
    # a running job can be aborted; a finished one cannot
    fake_sf.poll_steps = 5
    j2 = s.post(base, json={"operation": "query", "query": "SELECT Id FROM Opportunity"}).json()
    assert s.patch(f"{base}/{j2['id']}", json={"state": "Aborted"}).json()["state"] == "Aborted"
    assert s.patch(f"{base}/{job['id']}", json={"state": "Aborted"}).status_code == 400


def test_sandbox_username_password_login_goes_to_test_salesforce_com(fake_sf):
    """domain=test sends the OAuth request to test.salesforce.com (routed to the fake here)."""
    session = requests.Session()
    session.mount("https://test.salesforce.com", _RouteTo(fake_sf.url))
    seed_opportunities(fake_sf, 2)
    client = client_from_connection(
        "integration.user@example.test",
        "pw-",
        {
            "consumer_key": "ck-fake",
            "consumer_secret": "cs-fake",
            "security_token": "secret",
            "domain": "test",
        },
        session=session,
    )
    src = SalesforceSource(client)
    rows = [
        r for p in src.read_changes("Opportunity", FIELDS, "SystemModstamp", None, fake_sf.clock) for r in p
    ]
    assert len(rows) == 2
    assert fake_sf.logins == [{"grant_type": "password", "host": "test.salesforce.com"}]


def test_my_domain_login_and_token_refresh_after_expiry(fake_sf):
    session = requests.Session()
    session.mount("https://acme-synthetic--uat.sandbox.my.salesforce.com", _RouteTo(fake_sf.url))
    seed_opportunities(fake_sf, 1)
    client = client_from_connection(
        "integration.user@example.test",
        "pw-secret",
        {"consumer_key": "ck-fake", "consumer_secret": "cs-fake", "domain": "acme-synthetic--uat.sandbox.my"},
        session=session,
    )
    src = SalesforceSource(client)
    src.server_time()
    fake_sf.revoke_tokens()
    src.server_time()  # 401 -> one re-login -> retried
    assert [x["host"] for x in fake_sf.logins] == ["acme-synthetic--uat.sandbox.my.salesforce.com"] * 2


class _RouteTo(requests.adapters.HTTPAdapter):
    """Send requests for a public Salesforce host to the fake (no network), keeping the Host header."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def send(self, request, **kwargs):
        from urllib.parse import urlsplit

        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc
        request.url = self.target + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)
