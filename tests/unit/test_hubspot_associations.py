"""HubSpot deal -> company associations (Opportunity.AccountId) against a stateful fake portal:
read with every deal, late and re-pointed associations (which do not move hs_lastmodifieddate)
reconciled by the periodic association refresh. Expectations come from the fake's own state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.fakes.hubspot_api import PRIMARY, UNLABELED, FakeHubSpot

from salesops.ingest.pipeline import extract_and_load
from salesops.sources.hubspot import HubSpotClient, HubSpotSource
from salesops.warehouse import Warehouse

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture()
def portal():
    with FakeHubSpot(T0) as fake:
        yield fake


@pytest.fixture()
def wh(tmp_path):
    w = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    yield w
    w.dispose()


def source(fake: FakeHubSpot) -> HubSpotSource:
    return HubSpotSource(HubSpotClient("pat-synthetic", fake.url, sleep=lambda s: None))


def staged(wh: Warehouse) -> dict[str, str | None]:
    return {
        r["id"]: r["account_id"] for r in wh.query("select id, account_id from staging.stg_crm__opportunity")
    }


def truth(fake: FakeHubSpot) -> dict[str, str | None]:
    return {did: fake.company_of(did) for did in fake.deals}


def test_first_sync_reads_each_deals_company_primary_first(portal, wh):
    d1 = portal.add_deal("Synthetic Deal One", company="100")
    d2 = portal.add_deal("Synthetic Deal Two")  # no company yet
    d3 = portal.add_deal("Synthetic Deal Three")
    portal.associate(d3, "300", UNLABELED)
    portal.associate(d3, "200", UNLABELED, only=False)  # two, none primary: the lowest id
    d4 = portal.add_deal("Synthetic Deal Four")
    for company, kind in (("400", UNLABELED), ("450", UNLABELED), ("500", PRIMARY)):
        portal.associate(d4, company, kind, only=False)  # 3 links: a second association page
    portal.tick(timedelta(minutes=5))
    extract_and_load(source(portal), ["opportunity"], wh)
    assert staged(wh) == truth(portal) == {d1: "100", d2: None, d3: "200", d4: "500"}
    assert ("POST", "/crm/v4/associations/deals/companies/batch/read") in portal.calls


def test_late_and_repointed_associations_are_reconciled_on_the_refresh_cadence(portal, wh):
    d1 = portal.add_deal("Synthetic Deal One", company="100")
    d2 = portal.add_deal("Synthetic Deal Two")
    d3 = portal.add_deal("Synthetic Deal Three", company="300")
    portal.tick(timedelta(minutes=5))
    extract_and_load(source(portal), ["opportunity"], wh)
    # after the extract: d2 gets its company late, d1 moves to another company (neither moves
    # hs_lastmodifieddate); d3 is edited (moves it) and re-pointed too
    portal.tick(timedelta(hours=1))
    portal.associate(d2, "700")
    portal.associate(d1, "800")
    portal.associate(d3, "900")
    portal.update(d3, amount="2500")
    portal.tick(timedelta(minutes=5))
    extract_and_load(source(portal), ["opportunity"], wh)
    # within the 7-day refresh cadence only the edited deal is re-read (with its new company)
    assert staged(wh) == {d1: "100", d2: None, d3: "900"}
    portal.tick(timedelta(days=8))
    extract_and_load(source(portal), ["opportunity"], wh)
    assert staged(wh) == truth(portal) == {d1: "800", d2: "700", d3: "900"}
    audit = wh.query("select since, rows_read, formulas_refreshed from ops.load_audit order by until")
    assert [a["formulas_refreshed"] for a in audit] == [False, False, True]
    assert audit[2]["rows_read"] == 0  # no deal changed: the refresh alone fixed the companies
