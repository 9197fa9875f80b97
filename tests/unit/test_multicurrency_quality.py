"""Multi-currency quality checks, quotas and finance bookings (issue 13) on the hand-written fixture.

tests/fixtures/multicurrency/salesforce (the org of test_multicurrency.py) plus
tests/fixtures/multicurrency/quality: two deals that straddle the outlier bound only once converted
(JPY 600,000,000 = 4,000,000 USD; GBP 4,000,000 = 5,333,333.33 USD), a closed-won CHF deal (no rate),
FinanceBooking records in EUR, USD and without a currency, ForecastingQuota in EUR and without a
currency. Fake Salesforce API -> extract -> load -> quality run -> KPI build; every figure below is
the hand-computed one of tests/fixtures/multicurrency/EXPECTED.md ("Quality checks, quotas and
finance bookings").
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from tests.fakes.salesforce_api import FakeSalesforce
from tests.unit.test_multicurrency import CLOCK, FIX, QUARTER, SF_TYPES, money, recorded

from salesops.ingest.extract import extract_batch
from salesops.ingest.load import load_batch
from salesops.warehouse import Warehouse
from salesops.warehouse.schema import ensure_object_tables

OBJECTS = ["currency_type", "dated_conversion_rate", "opportunity", "booking", "quota"]
TYPES = {
    **SF_TYPES,
    "FinanceBooking": (
        "a0B",
        {
            "OpportunityId": "reference",
            "AccountId": "reference",
            "BookingDate": "date",
            "Amount": "currency",
            "CurrencyIsoCode": "picklist",
            "BookingType": "picklist",
        },
    ),
    "ForecastingQuota": (
        "0J9",
        {
            "QuotaOwnerId": "reference",
            "StartDate": "date",
            "QuotaAmount": "currency",
            "CurrencyIsoCode": "picklist",
        },
    ),
}
DEAL = "006MC00000000{:02d}AAA".format
BOOKING = "a0BMC00000000{:02d}AAA".format
CHF_06 = (
    "no conversion rate for CHF to USD: no DatedConversionRate covers CloseDate 2026-12-31 "
    "and CurrencyType has no usable CHF rate"
)
CHF_14 = (
    "no conversion rate for CHF to USD: no DatedConversionRate covers CloseDate 2026-10-20 "
    "and CurrencyType has no usable CHF rate"
)


def quality_records(name: str) -> list[dict]:
    body = json.loads((FIX / "quality" / f"query_{name}.json").read_text())
    assert body["totalSize"] == len(body["records"]) and body["done"]
    return [{k: v for k, v in r.items() if k != "attributes"} for r in body["records"]]


def sync(src, wh: Warehouse, landing) -> None:
    for name in OBJECTS:
        load_batch(wh, extract_batch(src, name, wh, landing_root=landing))


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    from salesops.kpis import runner
    from salesops.quality.runner import run_quality
    from salesops.sources.salesforce import SalesforceClient
    from salesops.sources.salesforce_bulk import SalesforceVolumeSource

    root = tmp_path_factory.mktemp("multicurrency_quality")
    with FakeSalesforce(clock=CLOCK) as fake:
        for obj, (prefix, fields) in TYPES.items():
            fake.add_object(obj, fields, id_prefix=prefix)
        for obj in ("CurrencyType", "DatedConversionRate", "Opportunity"):
            fake.insert(obj, recorded(obj))  # the org of test_multicurrency.py
        for obj in ("Opportunity", "FinanceBooking", "ForecastingQuota"):
            fake.insert(obj, quality_records(obj))  # tests/fixtures/multicurrency/quality

        def source() -> SalesforceVolumeSource:
            client = SalesforceClient(
                fake.url, access_token=fake.issue_token(), sleep=lambda s: None, max_attempts=2
            )
            src = SalesforceVolumeSource(client, page_size=200)
            src.settle = src.overlap = timedelta(0)
            return src

        wh = Warehouse(f"duckdb:///{root / 'w.duckdb'}")
        sync(source(), wh, root / "landing")
        ensure_object_tables(wh)
        summary = run_quality(wh, run_id="mc1", build_docs=False)
        runner.build(wh)
        yield wh, summary, fake, source, root
        wh.dispose()


def result(wh: Warehouse, check: str, scope_type: str = "all", scope_value: str = "all") -> dict:
    [row] = wh.query(
        "select * from quality.check_result where run_id = 'mc1' and check_id = :c and scope_type = :t "
        "and scope_value = :v",
        {"c": check, "t": scope_type, "v": scope_value},
    )
    return row


def details(wh: Warehouse, check: str) -> set[tuple[str, str]]:
    rows = wh.query(
        "select record_id, detail from quality.run_exception where run_id = 'mc1' and check_id = :c",
        {"c": check},
    )
    return {(r["record_id"], r["detail"]) for r in rows}


def not_evaluated(wh: Warehouse, check: str) -> dict[str, str]:
    rows = wh.query(
        "select record_id, reason from quality.run_not_evaluated where run_id = 'mc1' and check_id = :c",
        {"c": check},
    )
    return {r["record_id"]: r["reason"] for r in rows}


def test_amount_outlier_bound_is_compared_in_the_corporate_currency(org):
    wh, *_ = org
    # GBP 4,000,000 at 0.75 = 5,333,333.33 USD > 5,000,000: an outlier (as stored it was under the
    # bound); JPY 600,000,000 at 150 = 4,000,000 USD: not one (as stored it was 120x the bound)
    assert details(wh, "opp_amount_invalid") == {(DEAL(13), "outlier")}
    r = result(wh, "opp_amount_invalid")
    # 14 opportunities: the two CHF deals (no rate) are neither passed nor failed
    assert (r["evaluated"], r["failed"], r["not_evaluated"], r["status"]) == (
        12,
        1,
        2,
        "failed",
    )  # 1 / 12 > target 2 %
    assert r["reason"] == (
        f"2 records not evaluated: {CHF_14} (1); {CHF_06} (1) (quality.run_not_evaluated lists them)"
    )
    assert not_evaluated(wh, "opp_amount_invalid") == {DEAL(6): CHF_06, DEAL(14): CHF_14}
    [message] = wh.query(
        "select message from quality.run_exception where run_id = 'mc1' and check_id = 'opp_amount_invalid'"
    )
    assert message["message"] == (
        "Amount 4000000.00 GBP: expected at most 5,000,000 in the corporate currency, once converted"
    )
    # by owner: the one rep's row counts the same records
    owner = result(wh, "opp_amount_invalid", "owner", "005MC0000000001AAA")
    assert (owner["evaluated"], owner["failed"], owner["not_evaluated"]) == (12, 1, 2)


def test_booking_mismatch_compares_converted_amounts_and_skips_the_rateless_deal(org):
    wh, *_ = org
    # deal 10: EUR 2,000 at 0.9 = 2,222.22 vs booking EUR 2,100 at 0.9 = 2,333.33. Deal 08 (GBP 3,000
    # = 4,000 USD) vs its booking of 4,000 in the corporate currency matches (as stored: 3,000 vs 4,000)
    assert details(wh, "booking_amount_mismatch") == {(DEAL(10), "crm 2222.22 vs booked 2333.33")}
    r = result(wh, "booking_amount_mismatch")
    assert (r["evaluated"], r["failed"], r["not_evaluated"]) == (4, 1, 1)
    assert not_evaluated(wh, "booking_amount_mismatch") == {DEAL(14): f"opportunity: {CHF_14}"}
    assert r["reason"].startswith("1 record not evaluated: opportunity: no conversion rate for CHF to USD")


def test_reconciliation_sums_the_corporate_currency_and_leaves_a_rateless_period_unevaluated(org):
    wh, *_ = org
    q4 = result(wh, "reconciliation_variance", "period", QUARTER)
    # CRM 5,000 + 4,000 + 2,000 + 2,222.22 = 13,222.22; finance 5,000 + 4,000 + 2,000 + 2,333.33 =
    # 13,333.33 -> |-111.11| / 13,333.33 = 0.833 % (under 2 %). As stored: 10,800 vs 11,900 = 9.2 %.
    assert (q4["evaluated"], q4["failed"], q4["status"]) == (1, 0, "passed")
    assert q4["value"] == pytest.approx(111.11 / 13_333.33 * 100, rel=1e-9)
    q3 = result(wh, "reconciliation_variance", "period", "FY2027-Q3")
    assert (q3["evaluated"], q3["failed"], q3["passed"], q3["status"], q3["not_evaluated"]) == (
        0,
        0,
        None,
        "not_evaluated",
        1,
    )
    assert q3["reason"] == (
        "1 closed-won deal(s) and 0 booking(s) have no conversion rate to the corporate currency, "
        f"e.g. opportunity {DEAL(14)}: {CHF_14}"
    )
    total = result(wh, "reconciliation_variance")
    assert (total["evaluated"], total["failed"], total["not_evaluated"]) == (1, 0, 1)
    assert total["reason"].startswith("1 period not evaluated: FY2027-Q3: 1 closed-won deal(s)")


def test_finance_bookings_are_read_in_their_currency_and_converted(org):
    wh, *_ = org
    got = {
        r["booking_id"]: (r["currency_iso_code"], r["rate_source"], money(r["amount_corporate"]))
        for r in wh.query("select * from marts.int_booking_currency")
    }
    assert got == {
        BOOKING(1): ("EUR", "dated", Decimal("5000.00")),  # 4,000 / 0.8 (2026-11-12)
        BOOKING(2): ("USD", "corporate", Decimal("4000.00")),  # no CurrencyIsoCode: corporate
        BOOKING(3): ("EUR", "dated", Decimal("2000.00")),  # 1,800 / 0.9
        BOOKING(4): ("EUR", "dated", Decimal("2333.33")),  # 2,100 / 0.9
        BOOKING(5): ("USD", "corporate", Decimal("3300.00")),
    }
    [row] = wh.query(
        "select crm_bookings_amount, finance_bookings_amount from marts.agg_bookings_reconciliation "
        "where period_grain = 'fiscal_quarter' and period_label = :q",
        {"q": QUARTER},
    )
    assert (money(row["crm_bookings_amount"]), money(row["finance_bookings_amount"])) == (
        Decimal("13222.22"),
        Decimal("13333.33"),
    )


def test_quotas_are_read_in_their_currency_at_the_static_rate(org):
    wh, *_ = org
    got = {
        r["quota_id"][-5:-3]: (r["currency_iso_code"], r["rate_source"], money(r["amount_corporate"]))
        for r in wh.query("select * from marts.int_quota_currency")
    }
    # EUR 40,000 at CurrencyType 0.85 (dated rates do not apply to quotas) = 47,058.82 USD
    assert got == {
        "01": ("EUR", "currency_type", Decimal("47058.82")),
        "02": ("USD", "corporate", Decimal("50000.00")),
    }
    # the rep's own quota (no User records: above the rep level only rollup_quota_roles count)
    cov = {
        r["quarter_relative"]: r
        for r in wh.query(
            "select * from marts.agg_pipeline_coverage where rollup_level = 'rep' and rollup_key = :k",
            {"k": "005MC0000000001AAA"},
        )
    }
    assert money(cov["current"]["quota_amount"]) == Decimal("47058.82")
    assert money(cov["next"]["quota_amount"]) == Decimal("50000.00")
    # open pipeline this quarter 58,000 USD (test_multicurrency) / 47,058.82 = 1.2325; next quarter
    # JPY 4,000,000 + GBP 5,333,333.33 USD = 9,333,333.33 / 50,000 = 186.67
    assert float(cov["current"]["coverage_ratio"]) == pytest.approx(58_000 / 47_058.82, rel=1e-6)
    assert float(cov["next"]["coverage_ratio"]) == pytest.approx(9_333_333.33 / 50_000, rel=1e-6)


def test_a_booking_or_quota_without_a_rate_stops_the_kpi_build_naming_it(org):
    """Last in the module: it adds records to the fake org and re-syncs."""
    from salesops.kpis import runner

    wh, _, fake, source, root = org
    fake.tick(timedelta(hours=1))
    fake.insert(
        "FinanceBooking",
        [
            {
                "Id": BOOKING(6),
                "OpportunityId": DEAL(9),
                "BookingDate": "2026-12-20",
                "Amount": 1000.0,
                "CurrencyIsoCode": "CHF",
                "BookingType": "New Business",
            }
        ],
    )
    fake.tick(timedelta(minutes=1))
    sync(source(), wh, root / "landing")
    with pytest.raises(runner.KpiBuildError) as err:
        runner.build(wh)
    message = str(err.value)
    assert re.search(
        rf"1 FinanceBooking record\(s\) have a currency without a conversion rate to the corporate currency: "
        rf"FinanceBooking {BOOKING(6)} \(source salesforce, load batch [^)]+\): field CurrencyIsoCode = 'CHF' "
        rf"\(Amount 1000\.00\): no conversion rate for CHF to USD: no DatedConversionRate covers BookingDate "
        rf"2026-12-20 and CurrencyType has no usable CHF rate\.",
        message,
    ), message
    assert runner.ready_as_of(wh) is None  # nothing published as ready

    fake.tick(timedelta(hours=1))
    fake.update("FinanceBooking", BOOKING(6), CurrencyIsoCode="EUR")
    fake.insert(
        "ForecastingQuota",
        [
            {
                "Id": "0J9MC0000000003AAA",
                "QuotaOwnerId": "005MC0000000001AAA",
                "StartDate": "2026-11-01",
                "QuotaAmount": 9000.0,
                "CurrencyIsoCode": "CHF",
            }
        ],
    )
    fake.tick(timedelta(minutes=1))
    sync(source(), wh, root / "landing")
    with pytest.raises(
        runner.KpiBuildError,
        match=r"ForecastingQuota 0J9MC0000000003AAA .*field CurrencyIsoCode = 'CHF' "
        r"\(QuotaAmount 9000\.00\): no conversion rate for CHF to USD: CurrencyType has no usable CHF rate",
    ):
        runner.build(wh)
