"""HubSpot products and line items (CRM v3 ``products`` / ``line_items``, line item -> deal
associations) in the manifest's Product2 / OpportunityLineItem, against the stateful fake portal:
the line-item amount check and the bookings-by-product-family KPI work on HubSpot data.

The portal, written by hand (company currency USD; the recorded exchange rates of
tests/fixtures/multicurrency/hubspot: EUR 1.25 USD from 2026-08-01, 1.6 from 2026-12-15; fiscal
year from February, so FY2027-Q4 = 2026-11-01 .. 2027-01-31):

| product | hs_sku | hs_product_type | Family |
|---|---|---|---|
| Synthetic Widget | WID-1 | inventory | Inventory |
| Synthetic Support Plan | SUP-1 | service | Service |
| Synthetic Setup | SET-1 | service | Service |

| deal | stage | close | currency | amount | line items (qty x price = amount) | lines |
|---|---|---|---|---|---|---|
| D1 | won | 2026-12-01 | USD | 1,300 | WID-1 10 x 100 = 1,000; SUP-1 6 x 50 = 300 (no hs_product_id: by SKU) | 1,300 = amount |
| D2 | won | 2026-12-10 | EUR | 2,000 | WID-1 8 x 125 = 1,000 EUR; SET-1 1 x 900 = 900 EUR | **1,900 vs 2,000 EUR: mismatch** |
| D3 | open | 2027-01-20 | USD | 500 | SUP-1 10 x 50 = 500 | 500 = amount |
| D4 | won | 2026-11-20 | EUR | 800 (= 1,000 USD at 1.25) | SUP-1 10 x 50 = 500 **USD**; WID-1 4 x 100 = 400 EUR (= 500 USD) | 1,000 USD = 1,000 USD |

Product family bookings FY2027-Q4 (won deals' lines in USD, EUR at 1.25 on every won close date):
Inventory 1,000 + 1,250 (D2) + 500 (D4) = **2,750.00**; Service 300 + 1,125 (D2) + 500 (D4) =
**1,925.00**. line_item_amount_mismatch: 4 deals evaluated, 1 failed (D2, "line items 1900.00 vs
Amount 2000.00 EUR"). HubSpot has no price books and no product active flag: the price-book and
inactive-product checks are not evaluated.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.fakes.hubspot_api import LINE_ITEM_TO_DEAL, FakeHubSpot
from tests.support.quality_results import check_results, latest_run

from salesops.ingest.pipeline import extract_and_load
from salesops.sources.hubspot import HubSpotClient, HubSpotSource
from salesops.warehouse import Warehouse
from salesops.warehouse.schema import ensure_object_tables

CLOCK = datetime(2027, 1, 25, 12, 0, tzinfo=UTC)
RATES = Path(__file__).resolve().parents[1] / "fixtures" / "multicurrency" / "hubspot"
OBJECTS = ["currency_type", "dated_conversion_rate", "opportunity", "product", "opportunity_line_item"]


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _portal(portal: FakeHubSpot) -> dict[str, str]:
    portal.company_currency = json.loads((RATES / "company_currency.json").read_text())
    portal.exchange_rates = json.loads((RATES / "exchange_rates.json").read_text())["results"]
    ids: dict[str, str] = {}
    ids["WID"] = portal.add_product(
        "Synthetic Widget", hs_sku="WID-1", price="100", hs_product_type="inventory"
    )
    ids["SUP"] = portal.add_product(
        "Synthetic Support Plan", hs_sku="SUP-1", price="50", hs_product_type="service"
    )
    ids["SET"] = portal.add_product("Synthetic Setup", hs_sku="SET-1", price="900", hs_product_type="service")

    def deal(key: str, stage: str, close: str, currency: str, amount: str) -> None:
        ids[key] = portal.add_deal(
            f"Synthetic Deal {key}",
            dealstage=stage,
            closedate=f"{close}T00:00:00.000Z",
            deal_currency_code=currency,
            amount=amount,
        )

    def line(key: str, deal: str, product: str | None, sku: str, qty: str, price: str, amount: str, cur: str):
        ids[key] = portal.add_line_item(
            ids[deal],
            product and ids[product],
            name=f"Synthetic line {key}",
            hs_sku=sku,
            quantity=qty,
            price=price,
            amount=amount,
            hs_line_item_currency_code=cur,
        )

    deal("D1", "closedwon", "2026-12-01", "USD", "1300")
    deal("D2", "closedwon", "2026-12-10", "EUR", "2000")
    deal("D3", "contractsent", "2027-01-20", "USD", "500")
    deal("D4", "closedwon", "2026-11-20", "EUR", "800")
    line("L1", "D1", "WID", "WID-1", "10", "100", "1000", "USD")
    line("L2", "D1", None, "SUP-1", "6", "50", "300", "USD")  # a one-off line: no hs_product_id
    line("L3", "D2", "WID", "WID-1", "8", "125", "1000", "EUR")
    line("L4", "D2", "SET", "SET-1", "1", "900", "900", "EUR")
    line("L5", "D3", "SUP", "SUP-1", "10", "50", "500", "USD")
    line("L6", "D4", "SUP", "SUP-1", "10", "50", "500", "USD")
    line("L7", "D4", "WID", "WID-1", "4", "100", "400", "EUR")
    portal.tick(timedelta(minutes=5))
    return ids


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from salesops.kpis import runner
    from salesops.quality.runner import run_quality

    root = tmp_path_factory.mktemp("hubspot_products")
    with FakeHubSpot(CLOCK) as portal:
        ids = _portal(portal)
        wh = Warehouse(f"duckdb:///{root / 'w.duckdb'}")
        ensure_object_tables(wh)  # the objects not extracted here exist, empty
        src = HubSpotSource(HubSpotClient("pat-synthetic", portal.url, sleep=lambda s: None))
        results = {r.object: r for r in extract_and_load(src, OBJECTS, wh)}
        run_quality(wh, build_docs=False)
        runner.build(wh)
        yield wh, ids, results, portal
        wh.dispose()


def test_products_and_line_items_land_in_the_manifest_objects(loaded):
    wh, ids, results, portal = loaded
    assert {
        k: (r.rows_read, r.rows_rejected)
        for k, r in results.items()
        if k in ("product", "opportunity_line_item")
    } == {
        "product": (3, 0),
        "opportunity_line_item": (7, 0),
    }
    products = {
        r["id"]: (r["name"], r["product_code"], r["family"])
        for r in wh.query("select id, name, product_code, family from staging.stg_crm__product")
    }
    assert products == {
        ids["WID"]: ("Synthetic Widget", "WID-1", "Inventory"),
        ids["SUP"]: ("Synthetic Support Plan", "SUP-1", "Service"),
        ids["SET"]: ("Synthetic Setup", "SET-1", "Service"),
    }
    lines = {
        r["id"]: (
            r["opportunity_id"],
            r["product_id"],
            r["product_code"],
            float(r["quantity"]),
            money(r["unit_price"]),
            money(r["total_price"]),
            r["currency_iso_code"],
        )
        for r in wh.query("select * from staging.stg_crm__opportunity_line_item")
    }
    # the deal of each line is the fake's own association
    assert {lid: v[0] for lid, v in lines.items()} == {
        lid: next(iter(portal.line_item_deal[lid])) for lid in portal.line_items
    }
    assert lines[ids["L2"]] == (ids["D1"], None, "SUP-1", 6.0, Decimal("50.00"), Decimal("300.00"), "USD")
    assert lines[ids["L7"]] == (
        ids["D4"],
        ids["WID"],
        "WID-1",
        4.0,
        Decimal("100.00"),
        Decimal("400.00"),
        "EUR",
    )
    assert ("POST", "/crm/v4/associations/line_items/deals/batch/read") in portal.calls
    assert portal.line_item_deal[ids["L1"]] == {ids["D1"]: LINE_ITEM_TO_DEAL}


def test_line_item_amount_check_runs_on_hubspot_deals(loaded):
    wh, ids, *_ = loaded
    run = latest_run(wh)
    unsupported = (
        "line_item_not_in_price_book",
        "line_item_price_deviation",
        "opp_line_items_without_price_book",
        "line_item_product_inactive",
    )
    checks = check_results(wh, ("line_item_amount_mismatch", *unsupported))
    status = {c: (r["status"], r["evaluated"], r["failed"]) for c, r in checks.items()}
    assert status["line_item_amount_mismatch"][1:] == (4, 1)
    # no price books or product active flag in HubSpot: said, not passed
    assert {c: status[c][0] for c in unsupported} == dict.fromkeys(unsupported, "not_evaluated")
    exceptions = wh.query(
        "select record_id, detail from quality.run_exception where run_id = :r and check_id = 'line_item_amount_mismatch'",
        {"r": run},
    )
    assert exceptions == [{"record_id": ids["D2"], "detail": "line items 1900.00 vs Amount 2000.00 EUR"}]


def test_bookings_by_product_family_in_the_company_currency(loaded):
    wh, *_ = loaded
    rows = wh.query(
        "select product_family, opportunity_count, bookings_amount from marts.agg_bookings_by_product_family "
        "where period_grain = 'fiscal_quarter' and period_label = 'FY2027-Q4' order by product_family"
    )
    assert [(r["product_family"], r["opportunity_count"], money(r["bookings_amount"])) for r in rows] == [
        ("Inventory", 3, Decimal("2750.00")),  # D1, D2, D4
        ("Service", 3, Decimal("1925.00")),  # D1 (by SKU), D2, D4
    ]


def test_an_archived_line_item_is_deleted_from_staging(loaded):
    """Last in the module: it archives a line item in the fake portal and re-syncs."""
    wh, ids, _, portal = loaded
    portal.tick(timedelta(hours=1))
    portal.archive("line_items", ids["L4"])
    portal.tick(timedelta(minutes=5))
    src = HubSpotSource(HubSpotClient("pat-synthetic", portal.url, sleep=lambda s: None))
    extract_and_load(src, ["opportunity_line_item"], wh)
    staged = {r["id"] for r in wh.query("select id from staging.stg_crm__opportunity_line_item")}
    assert staged == set(portal.line_items) and ids["L4"] not in staged
