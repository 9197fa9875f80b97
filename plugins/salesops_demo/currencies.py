"""The demo CRM's multi-currency mode (issue 13): a seeded org re-priced in several currencies.

Off by default (the demo is single-currency and its data unchanged). ``DemoCrm.seed(...,
currencies=["EUR", "GBP"])`` calls :func:`apply` on the freshly generated file, before the ground
truth is built. Rates come from include/config/demo.yaml ``currencies`` (Salesforce's direction:
units of the currency per 1 unit of the corporate currency):

* ``CurrencyType`` gets the corporate currency (rate 1, IsCorporate) and each listed currency's
  static rate; ``DatedConversionRate`` the configured ranges (``NextStartDate`` = the next start).
* Opportunities take a currency round-robin by Id (the corporate currency, then each listed one).
  A deal in another currency is re-priced by one factor, the rate that covers its CloseDate (a
  dated range, else the static rate), applied to its Amount, its Amount field history and its line
  items (the last line item absorbs the rounding so the items still add up to the Amount). Its
  finance booking takes the deal's currency, re-priced at the rate covering the BookingDate.
* Quotas of reps in ``quota_region`` take the first listed currency at its static rate (dated
  rates do not apply to quotas in Salesforce).

Amounts are whole hundreds of the corporate currency and the rates have at most two decimals, so
every seeded record converts back (amount / rate, to the cent) to exactly its single-currency
amount: the marts of a multi-currency demo equal the single-currency demo's for the seeded data.
After ``advance()`` the rule stays exact for the ground truth (salesops_demo/rules.py converts the
same way): new deals are in the corporate currency, a won deal's booking takes the deal's currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import duckdb

from salesops import policy as _policy
from salesops_demo.store import q


class CurrencyConfigError(ValueError):
    """The requested currencies cannot be applied (unknown code, no rate)."""


def _config() -> Any:
    return _policy.demo().currencies


def parse_codes(value: str | Sequence[str] | None) -> list[str]:
    """``"EUR,GBP"`` or a list -> validated ISO codes with a rate in demo.yaml (no duplicates).

    Raises:
        CurrencyConfigError: naming the code and the codes demo.yaml has rates for.
    """
    if not value:
        return []
    raw = value.split(",") if isinstance(value, str) else list(value)
    cfg = _config()
    codes: list[str] = []
    for code in (c.strip().upper() for c in raw):
        if not code:
            continue
        if code == cfg.corporate:
            raise CurrencyConfigError(
                f"--currencies: {code} is the corporate currency (demo.yaml currencies.corporate); "
                "list the other currencies"
            )
        if code not in cfg.rates:
            raise CurrencyConfigError(
                f"--currencies: no rate for {code!r} in include/config/demo.yaml currencies.rates; "
                f"expected one of {sorted(cfg.rates)}"
            )
        if code not in codes:
            codes.append(code)
    return codes


def _rate_rows(codes: list[str], stamp: datetime) -> tuple[list[tuple], list[tuple]]:
    cfg = _config()
    types = [("01LDM0000000001AAA", cfg.corporate, 1.0, 2, True, True, stamp)]
    dated = []
    n = 1
    for i, code in enumerate(codes, start=2):
        types.append(
            (f"01LDM{i:010d}AAA", code, float(cfg.rates[code]), 0 if code == "JPY" else 2, True, False, stamp)
        )
        ranges = sorted(cfg.dated.get(code, []), key=lambda r: r.start)
        for j, r in enumerate(ranges):
            nxt = date.fromisoformat(ranges[j + 1].start) if j + 1 < len(ranges) else None
            dated.append((f"04wDM{n:010d}AAA", code, float(r.rate), date.fromisoformat(r.start), nxt, stamp))
            n += 1
    return types, dated


# The factor of each re-priced record: the rate covering its day (dated, else static).
_FACTOR = """
CREATE TEMP TABLE {name} AS
SELECT x.Id, x.code, coalesce(
    (SELECT d.ConversionRate FROM "DatedConversionRate" d
     WHERE d.IsoCode = x.code AND d.StartDate <= x.day AND (d.NextStartDate IS NULL OR x.day < d.NextStartDate)
     ORDER BY d.StartDate DESC LIMIT 1),
    (SELECT c.ConversionRate FROM "CurrencyType" c WHERE c.IsoCode = x.code)) AS factor
FROM ({source}) AS x
"""


def apply(con: duckdb.DuckDBPyConnection, codes: Sequence[str], stamp: datetime) -> dict[str, int]:
    """Re-price the seeded org in ``codes`` (see the module docstring). Returns counts per object.

    Args:
        con: an open connection to the demo file (inside ``DemoCrm.seed``).
        codes: currencies other than the corporate one, each with a rate in demo.yaml.
        stamp: SystemModstamp of the rate records (the seed's clock).
    """
    codes = parse_codes(list(codes))
    if not codes:
        return {}
    cfg = _config()
    types, dated = _rate_rows(codes, stamp)
    con.executemany(
        f"INSERT INTO {q('CurrencyType')} (Id, IsoCode, ConversionRate, DecimalPlaces, IsActive, IsCorporate, SystemModstamp) VALUES (?, ?, ?, ?, ?, ?, ?)",
        types,
    )
    if dated:
        con.executemany(
            f"INSERT INTO {q('DatedConversionRate')} (Id, IsoCode, ConversionRate, StartDate, NextStartDate, SystemModstamp) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            dated,
        )
    cycle = [cfg.corporate, *codes]
    cases = " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(cycle))
    con.execute(
        f"""UPDATE "Opportunity" o SET CurrencyIsoCode = a.code
        FROM (SELECT Id, CASE (row_number() OVER (ORDER BY Id) - 1) % {len(cycle)} {cases} END AS code
              FROM "Opportunity") a
        WHERE a.Id = o.Id"""
    )
    con.execute(
        _FACTOR.format(
            name="opp_factor",
            source=f'SELECT Id, CurrencyIsoCode AS code, CloseDate AS day FROM "Opportunity" '
            f"WHERE CurrencyIsoCode <> '{cfg.corporate}'",
        )
    )
    con.execute(
        """UPDATE "Opportunity" o SET Amount = round(o.Amount * f.factor, 2)
        FROM opp_factor f WHERE f.Id = o.Id AND o.Amount IS NOT NULL"""
    )
    # the deal's Amount history in its currency (the same factor: the values are the deal's own)
    con.execute(
        """UPDATE "OpportunityFieldHistory" h SET
            OldValue = CASE WHEN TRY_CAST(h.OldValue AS DOUBLE) IS NULL THEN h.OldValue
                            ELSE printf('%.2f', round(CAST(h.OldValue AS DOUBLE) * f.factor, 2)) END,
            NewValue = CASE WHEN TRY_CAST(h.NewValue AS DOUBLE) IS NULL THEN h.NewValue
                            ELSE printf('%.2f', round(CAST(h.NewValue AS DOUBLE) * f.factor, 2)) END
        FROM opp_factor f WHERE f.Id = h.OpportunityId AND h.Field = 'Amount'"""
    )
    # line items: every item re-priced, the last (highest Id) absorbs the cents so they add up
    con.execute(
        """UPDATE "OpportunityLineItem" li SET CurrencyIsoCode = o.CurrencyIsoCode
        FROM "Opportunity" o WHERE o.Id = li.OpportunityId"""
    )
    con.execute(
        """UPDATE "OpportunityLineItem" li SET
            UnitPrice = round(li.UnitPrice * f.factor, 2),
            TotalPrice = round(li.UnitPrice * f.factor, 2) * li.Quantity
        FROM opp_factor f WHERE f.Id = li.OpportunityId"""
    )
    con.execute(
        """UPDATE "OpportunityLineItem" li SET
            TotalPrice = o.Amount - s.others,
            UnitPrice = (o.Amount - s.others) / li.Quantity
        FROM (SELECT OpportunityId, max(Id) AS last_id,
                     sum(TotalPrice) - arg_max(TotalPrice, Id) AS others
              FROM "OpportunityLineItem" GROUP BY 1) s, "Opportunity" o, opp_factor f
        WHERE li.Id = s.last_id AND o.Id = s.OpportunityId AND f.Id = o.Id AND o.Amount IS NOT NULL"""
    )
    # finance bookings in the deal's currency, at the rate of the booking date
    con.execute(
        """UPDATE "FinanceBooking" b SET CurrencyIsoCode = o.CurrencyIsoCode
        FROM "Opportunity" o WHERE o.Id = b.OpportunityId"""
    )
    con.execute(
        _FACTOR.format(
            name="booking_factor",
            source=f'SELECT Id, CurrencyIsoCode AS code, BookingDate AS day FROM "FinanceBooking" '
            f"WHERE CurrencyIsoCode <> '{cfg.corporate}'",
        )
    )
    con.execute(
        """UPDATE "FinanceBooking" b SET Amount = round(b.Amount * f.factor, 2)
        FROM booking_factor f WHERE f.Id = b.Id AND b.Amount IS NOT NULL"""
    )
    quotas = 0
    if cfg.quota_region:
        first = codes[0]
        rate = float(cfg.rates[first])
        quotas = con.execute(
            """UPDATE "ForecastingQuota" qt SET CurrencyIsoCode = ?, QuotaAmount = round(qt.QuotaAmount * ?, 2)
            FROM "User" u WHERE u.Id = qt.QuotaOwnerId AND u.Region__c = ?""",
            [first, rate, cfg.quota_region],
        ).fetchall()[0][0]
    counts = {
        "CurrencyType": len(types),
        "DatedConversionRate": len(dated),
        "Opportunity": con.execute("SELECT count(*) FROM opp_factor").fetchall()[0][0],
        "FinanceBooking": con.execute("SELECT count(*) FROM booking_factor").fetchall()[0][0],
        "ForecastingQuota": int(quotas or 0),
    }
    con.execute("DROP TABLE opp_factor")
    con.execute("DROP TABLE booking_factor")
    return counts
