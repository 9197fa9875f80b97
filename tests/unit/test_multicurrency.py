"""Multi-currency through the real path: fake API (recorded-shape JSON written by hand,
tests/fixtures/multicurrency, expectations in its EXPECTED.md) -> extract -> load -> KPI build.

Salesforce: CurrencyIsoCode on opportunities, CurrencyType and DatedConversionRate (Advanced
Currency Management: the rate whose range covers the close date, else the static rate), a rate
change mid-quarter, a currency without any rate. HubSpot: deal_currency_code and the portal's
exchange rates (settings API), converted the same way. Every total below is the hand-computed one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.fakes.fixtures import OPPORTUNITY_FIELDS
from tests.fakes.hubspot_api import FakeHubSpot
from tests.fakes.salesforce_api import FakeSalesforce

from salesops.ingest.extract import extract_batch
from salesops.ingest.load import load_batch
from salesops.kpis import runner
from salesops.warehouse import Warehouse
from salesops.warehouse.schema import ensure_object_tables

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "multicurrency"
CLOCK = datetime(2027, 1, 25, 12, 0, tzinfo=UTC)
QUARTER = "FY2027-Q4"
OBJECTS = ["currency_type", "dated_conversion_rate", "opportunity"]
SF_TYPES = {
    "CurrencyType": (
        "01L",
        {
            "IsoCode": "picklist",
            "ConversionRate": "double",
            "DecimalPlaces": "int",
            "IsActive": "boolean",
            "IsCorporate": "boolean",
        },
    ),
    "DatedConversionRate": (
        "04w",
        {"IsoCode": "picklist", "ConversionRate": "double", "StartDate": "date", "NextStartDate": "date"},
    ),
    "Opportunity": ("006", {**OPPORTUNITY_FIELDS, "CurrencyIsoCode": "picklist"}),
}


def recorded(name: str) -> list[dict]:
    """Records of a recorded Salesforce query response, without the ``attributes`` envelope."""
    body = json.loads((FIX / "salesforce" / f"query_{name}.json").read_text())
    assert body["totalSize"] == len(body["records"]) and body["done"]
    return [{k: v for k, v in r.items() if k != "attributes"} for r in body["records"]]


def sync(src, wh: Warehouse, landing: Path) -> dict[str, object]:
    out = {}
    for name in OBJECTS:
        out[name] = load_batch(wh, extract_batch(src, name, wh, landing_root=landing))
    return out


def build(wh: Warehouse) -> None:
    ensure_object_tables(wh)  # the objects this test does not extract exist, empty
    runner.build(wh)


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def company_pipeline(wh: Warehouse) -> dict:
    [row] = wh.query(
        "select open_pipeline_count, open_pipeline_amount, weighted_open_pipeline_amount "
        "from marts.agg_open_pipeline_by_close_quarter "
        "where rollup_level = 'company' and close_fiscal_quarter = :q",
        {"q": QUARTER},
    )
    return row


def quarter_bookings(wh: Warehouse) -> tuple[int, Decimal]:
    row = wh.query(
        "select sum(bookings_count) as n, sum(acv_amount) as amount from marts.agg_bookings_by_period "
        "where period_grain = 'fiscal_quarter' and period_label = :q",
        {"q": QUARTER},
    )[0]
    return int(row["n"]), money(row["amount"])


# -- Salesforce --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def salesforce(tmp_path_factory):
    from salesops.sources.salesforce import SalesforceClient
    from salesops.sources.salesforce_bulk import SalesforceVolumeSource

    root = tmp_path_factory.mktemp("multicurrency_sf")
    with FakeSalesforce(clock=CLOCK) as fake:
        for obj, (prefix, fields) in SF_TYPES.items():
            fake.add_object(obj, fields, id_prefix=prefix)
            fake.insert(obj, recorded(obj))

        def source() -> SalesforceVolumeSource:
            client = SalesforceClient(
                fake.url, access_token=fake.issue_token(), sleep=lambda s: None, max_attempts=2
            )
            src = SalesforceVolumeSource(client, page_size=200)
            src.settle = src.overlap = timedelta(0)
            return src

        wh = Warehouse(f"duckdb:///{root / 'w.duckdb'}")
        results = sync(source(), wh, root / "landing")
        build(wh)
        yield wh, results, fake, source, root
        wh.dispose()


def test_salesforce_staging_keeps_original_amount_and_currency(salesforce):
    wh, results, fake, _, _ = salesforce
    assert {k: (r.rows_read, r.rows_rejected) for k, r in results.items()} == {
        "currency_type": (5, 0),
        "dated_conversion_rate": (4, 0),
        "opportunity": (11, 0),
    }
    staged = {
        r["id"][-5:-3]: (r["currency_iso_code"], money(r["amount"]))
        for r in wh.query("select id, currency_iso_code, amount from staging.stg_crm__opportunity")
    }
    assert staged == {
        rid[-5:-3]: (rec["CurrencyIsoCode"], money(rec["Amount"]))
        for rid, rec in fake.live("Opportunity").items()
    }
    assert staged["06"] == ("CHF", Decimal("5000.00"))


def test_salesforce_each_deal_converted_by_the_rate_covering_its_close_date(salesforce):
    wh, *_ = salesforce
    got = {
        r["opportunity_id"][-5:-3]: (r["rate_source"], r["conversion_rate"], r["amount_corporate"])
        for r in wh.query("select * from marts.int_opportunity_currency")
    }
    expected = {
        "01": ("corporate", 1.0, "10000.00"),
        "02": ("dated", 0.8, "10000.00"),  # before the 2026-12-15 change
        "03": ("dated", 0.9, "10000.00"),  # after it
        "04": ("dated", 0.75, "8000.00"),  # the dated rate wins over CurrencyType's 0.7
        "05": ("currency_type", 1.25, "10000.00"),  # CAD has no dated rates
        "06": (None, None, None),  # CHF: no rate at all
        "07": ("dated", 0.8, "5000.00"),
        "08": ("dated", 0.75, "4000.00"),
        "09": ("dated", 0.9, "2000.00"),
        "10": ("dated", 0.9, "2222.22"),  # StartDate is inclusive, NextStartDate exclusive
        "11": ("currency_type", 150.0, "10000.00"),  # inactive JPY still converts
    }
    assert {
        k: (src, None if rate is None else float(rate), None if amt is None else str(money(amt)))
        for k, (src, rate, amt) in got.items()
    } == expected


def test_salesforce_deal_without_a_rate_is_excluded_with_its_reason_and_counted(salesforce):
    wh, *_ = salesforce
    [chf] = wh.query("select * from marts.int_opportunity_currency where currency_status = 'no_rate'")
    assert chf["is_excluded"] and chf["amount_corporate"] is None
    assert chf["exclusion_reason"] == (
        "no conversion rate for CHF to USD: no DatedConversionRate covers CloseDate 2026-12-31 "
        "and CurrencyType has no usable CHF rate"
    )
    assert (
        wh.scalar("select count(*) from marts.int_opportunity_enriched where currency_iso_code = 'CHF'") == 0
    )
    by_cur = {r["currency_iso_code"]: r for r in wh.query("select * from marts.agg_currency_conversion")}
    assert (by_cur["CHF"]["opportunities"], by_cur["CHF"]["opportunities_excluded"]) == (1, 1)
    assert money(by_cur["CHF"]["amount_excluded_original"]) == Decimal("5000.00")
    assert (by_cur["EUR"]["opportunities_converted"], money(by_cur["EUR"]["amount_original"])) == (
        5,
        Decimal("24800.00"),
    )
    assert money(by_cur["EUR"]["amount_corporate"]) == Decimal("29222.22")
    assert money(by_cur["GBP"]["amount_corporate"]) == Decimal("12000.00")
    assert sum(r["opportunities_excluded"] for r in by_cur.values()) == 1
    assert wh.query("select iso_code, corporate_source from marts.dim_currency where is_corporate") == [
        {"iso_code": "USD", "corporate_source": "source"}
    ]


def test_salesforce_kpis_are_in_the_corporate_currency(salesforce):
    wh, *_ = salesforce
    pipe = company_pipeline(wh)
    assert pipe["open_pipeline_count"] == 6
    assert money(pipe["open_pipeline_amount"]) == Decimal("58000.00")
    assert money(pipe["weighted_open_pipeline_amount"]) == Decimal("29000.00")
    assert quarter_bookings(wh) == (4, Decimal("13222.22"))
    # the daily snapshot (live rows of the as-of day) uses the same amounts and leaves CHF out
    [snap] = wh.query(
        "select count(*) as n, sum(amount) as amount from marts.fct_pipeline_snapshot "
        "where snapshot_date = (select as_of_date from marts.kpi_context)"
    )
    assert (snap["n"], money(snap["amount"])) == (6, Decimal("58000.00"))


def test_salesforce_packs_say_which_currency_and_what_was_left_out(salesforce):
    from salesops.packs.render import currency_note

    wh, *_ = salesforce
    assert currency_note(wh) == (
        "Amounts are in USD, the corporate currency; 9 opportunities in other currencies were converted "
        "at the dated rate of their close date (else their currency's rate), their original amounts "
        "kept in the warehouse. 1 opportunity is not included in any figure because its currency has "
        "no conversion rate (1 in CHF; marts.int_opportunity_currency lists them with the reason)."
    )
    # the pack's own cross-check recomputes the open pipeline from staging in USD, CHF left out
    from salesops import sql as sqlfiles

    [check] = wh.query(
        sqlfiles.render("packs/checks/open_pipeline.sql", dialect=wh.dialect),
        {"quarter_relative": "current", "scope_type": "all", "scope_value": "all"},
    )
    assert (check["open_pipeline_count"], money(check["open_pipeline_amount"])) == (6, Decimal("58000.00"))


def test_salesforce_new_rate_without_touching_the_old_range_reprices_on_the_next_build(salesforce):
    """A dated rate added later: the old range's NextStartDate is stale in staging until it is
    re-read, and the latest StartDate covering a day must win. Rates are not baked into staging:
    the next build re-prices the deal closing on 2027-01-20 (EUR 9,000 at 1.0 = 9,000 USD)."""
    wh, _, fake, source, root = salesforce
    fake.tick(timedelta(hours=1))
    fake.insert(
        "DatedConversionRate",
        [{"IsoCode": "EUR", "ConversionRate": 1.0, "StartDate": "2027-01-10", "NextStartDate": None}],
    )
    fake.tick(timedelta(minutes=1))
    sync(source(), wh, root / "landing")
    build(wh)
    [deal] = wh.query(
        "select rate_source, conversion_rate, amount_corporate from marts.int_opportunity_currency "
        "where opportunity_id = '006MC0000000003AAA'"
    )
    assert (deal["rate_source"], float(deal["conversion_rate"]), money(deal["amount_corporate"])) == (
        "dated",
        1.0,
        Decimal("9000.00"),
    )
    assert money(company_pipeline(wh)["open_pipeline_amount"]) == Decimal("57000.00")


# -- HubSpot -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hubspot(tmp_path_factory):
    from salesops.sources.hubspot import HubSpotClient, HubSpotSource

    root = tmp_path_factory.mktemp("multicurrency_hs")
    with FakeHubSpot(CLOCK) as portal:
        portal.company_currency = json.loads((FIX / "hubspot" / "company_currency.json").read_text())
        portal.exchange_rates = json.loads((FIX / "hubspot" / "exchange_rates.json").read_text())["results"]
        for deal in json.loads((FIX / "hubspot" / "search_deals.json").read_text())["results"]:
            portal.deals[deal["id"]] = dict(deal["properties"])
            portal.associations[deal["id"]] = {}
        src = HubSpotSource(HubSpotClient("pat-synthetic", portal.url, sleep=lambda s: None))
        wh = Warehouse(f"duckdb:///{root / 'w.duckdb'}")
        results = sync(src, wh, root / "landing")
        build(wh)
        yield wh, results, portal
        wh.dispose()


def test_hubspot_rates_are_staged_in_salesforce_direction_with_derived_ranges(hubspot):
    wh, results, portal = hubspot
    assert {k: (r.rows_read, r.rows_rejected) for k, r in results.items()} == {
        "currency_type": (3, 0),
        "dated_conversion_rate": (3, 0),
        "opportunity": (7, 0),
    }
    dated = {
        r["id"]: (
            r["iso_code"],
            round(float(r["conversion_rate"]), 6),
            str(r["start_date"]),
            r["next_start_date"],
        )
        for r in wh.query("select * from staging.stg_crm__dated_conversion_rate")
    }
    assert dated == {
        "7001": ("EUR", 0.8, "2026-08-01", datetime(2026, 12, 15).date()),
        "7002": ("GBP", round(1 / 1.5, 6), "2026-01-01", None),
        "7003": ("EUR", 0.625, "2026-12-15", None),
    }
    types = {
        r["iso_code"]: (round(float(r["conversion_rate"]), 6), r["is_corporate"])
        for r in wh.query("select * from staging.stg_crm__currency_type")
    }
    assert types == {"USD": (1.0, True), "EUR": (0.625, False), "GBP": (round(1 / 1.5, 6), False)}
    assert ("GET", "/settings/v3/currencies/exchange-rates") in portal.calls


def test_hubspot_kpis_in_company_currency_and_the_rateless_deal_excluded(hubspot):
    wh, *_ = hubspot
    got = {
        r["opportunity_id"]: (r["currency_iso_code"], r["currency_status"], r["amount_corporate"])
        for r in wh.query("select * from marts.int_opportunity_currency")
    }
    assert {k: (c, s, None if a is None else money(a)) for k, (c, s, a) in got.items()} == {
        "8101": ("USD", "corporate", Decimal("10000.00")),
        "8102": ("EUR", "converted", Decimal("10000.00")),
        "8103": ("EUR", "converted", Decimal("8000.00")),
        "8104": ("GBP", "converted", Decimal("9000.00")),
        "8105": ("CHF", "no_rate", None),
        "8106": ("EUR", "converted", Decimal("5000.00")),
        "8107": ("USD", "corporate", Decimal("2500.00")),  # no deal_currency_code: company currency
    }
    pipe = company_pipeline(wh)
    assert (pipe["open_pipeline_count"], money(pipe["open_pipeline_amount"])) == (5, Decimal("39500.00"))
    assert quarter_bookings(wh) == (1, Decimal("5000.00"))
    assert wh.scalar("select sum(opportunities_excluded) from marts.agg_currency_conversion") == 1


def test_hubspot_token_without_currency_scope_reads_no_rates_and_excludes_foreign_deals(tmp_path):
    from salesops.sources.hubspot import HubSpotClient, HubSpotSource

    with FakeHubSpot(CLOCK) as portal:
        portal.currencies_status = 403
        portal.add_deal("Synthetic Deal Euro", amount="1000", deal_currency_code="EUR")
        portal.add_deal("Synthetic Deal Home", amount="700", deal_currency_code="USD")
        portal.tick(timedelta(minutes=5))
        src = HubSpotSource(HubSpotClient("pat-synthetic", portal.url, sleep=lambda s: None))
        wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
        results = sync(src, wh, tmp_path / "landing")
        assert results["currency_type"].rows_read == 0 and results["dated_conversion_rate"].rows_read == 0
        build(wh)
        rows = wh.query(
            "select currency_iso_code, currency_status, is_excluded from marts.int_opportunity_currency"
        )
        assert sorted((r["currency_iso_code"], r["currency_status"], r["is_excluded"]) for r in rows) == [
            ("EUR", "no_rate", True),
            ("USD", "corporate", False),
        ]
        assert wh.query("select corporate_source from marts.dim_currency where is_corporate") == [
            {"corporate_source": "policy"}
        ]
        wh.dispose()
