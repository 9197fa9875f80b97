"""HubSpot multi-currency: the portal's currencies and exchange rates as the manifest's
``CurrencyType`` and ``DatedConversionRate`` records (Salesforce's shape, so one KPI model converts
every source).

Calls (settings API, scope ``settings.currencies.read``):

* ``GET /settings/v3/currencies/company-currency`` -> ``{"id": "USD", "createdAt": ...}``: the
  corporate currency (``IsCorporate``, rate 1).
* ``GET /settings/v3/currencies/exchange-rates`` (``limit``/``after`` paging): every rate the portal
  ever had, current and historical: ``fromCurrencyCode``, ``toCurrencyCode`` (the company
  currency), ``conversionRate``, ``effectiveAt``, ``createdAt``, ``updatedAt``, ``visibleInUI``.

HubSpot's ``conversionRate`` converts *from* the currency *to* the company currency (EUR 1.25 =
1 EUR is 1.25 USD); Salesforce's ``ConversionRate`` is the other way round (units of the currency
per 1 corporate unit). Records carry Salesforce's: ``1 / conversionRate``.

* ``DatedConversionRate``: one record per exchange rate (``Id`` = HubSpot's id), ``StartDate`` =
  the UTC date of ``effectiveAt``, ``NextStartDate`` = the next rate's start date for the same
  currency (null for the latest). A new rate changes the previous one's ``NextStartDate`` without
  touching its ``updatedAt``, so ``SystemModstamp`` is the later of the rate's own ``updatedAt``
  and the next rate's ``createdAt``/``updatedAt``: an incremental read re-reads the closed range.
* ``CurrencyType``: the company currency plus each currency's latest rate (``IsActive`` =
  ``visibleInUI``); ``SystemModstamp`` = that rate's stamp.

Which rate applies to a deal is decided in the KPI models (``int_opportunity_currency``): the rate
in effect on the deal's close date. HubSpot's own "amount in company currency" uses the current
rate for open deals and the rate at closing for closed ones, so an open deal whose close date is
already past can differ from HubSpot's figure (documented in the README).

A portal token without the currencies scope (403) reads no rates, with one warning: deals in other
currencies then have no rate and are excluded from the KPIs with that reason, never summed as is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from salesops.sources.base import Record, SourceError
from salesops.sources.http import ApiClient, ApiError, as_utc, parse_api_datetime, require_keys

log = logging.getLogger(__name__)

COMPANY_CURRENCY = "/settings/v3/currencies/company-currency"
EXCHANGE_RATES = "/settings/v3/currencies/exchange-rates"
OBJECTS = {"currencies": "CurrencyType", "exchange_rates": "DatedConversionRate"}


def _stamp(text: Any, what: str) -> datetime:
    when = parse_api_datetime(text)
    if when is None:
        raise SourceError(f"HubSpot {what}: expected an ISO date-time, got {text!r}")
    return when


def _iso(ts: datetime) -> str:
    return as_utc(ts).strftime("%Y-%m-%dT%H:%M:%S.") + f"{as_utc(ts).microsecond // 1000:03d}Z"


def _reciprocal(rate: Any, what: str) -> float:
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise SourceError(f"HubSpot {what}: conversionRate {rate!r} is not a number") from None
    if value <= 0:
        raise SourceError(f"HubSpot {what}: conversionRate {rate!r} must be above 0")
    return 1.0 / value


def company_currency(client: ApiClient) -> dict[str, Any] | None:
    """``{"id": code, "createdAt": ...}``, or None when the token may not read currencies."""
    try:
        payload = client.get_json(COMPANY_CURRENCY)
    except ApiError as exc:
        if exc.status in (401, 403):
            log.warning(
                "hubspot: cannot read the portal's currencies (%s; scope settings.currencies.read): deals "
                "in other currencies will have no rate and are excluded from the KPIs",
                exc.status,
            )
            return None
        raise
    return require_keys(payload, ["id"], "HubSpot company currency")


def exchange_rates(client: ApiClient, company: str) -> list[dict[str, Any]]:
    """Every exchange rate into the company currency (all pages), checked."""
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    page = 0
    while True:
        page += 1
        data = require_keys(
            client.get_json(EXCHANGE_RATES, params=params), ["results"], "HubSpot exchange rates"
        )
        for i, row in enumerate(data["results"]):
            what = f"exchange rate page {page} #{i} (id {row.get('id')!r})"
            require_keys(row, ["id", "fromCurrencyCode", "conversionRate", "effectiveAt"], f"HubSpot {what}")
            if row.get("toCurrencyCode", company) != company or row["fromCurrencyCode"] == company:
                continue  # a pair not into the company currency is not a conversion we use
            out.append(row)
        after = ((data.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return out
        params = {"limit": 100, "after": after}


def dated_rates(client: ApiClient) -> list[Record]:
    """Every exchange rate as a ``DatedConversionRate`` record (see the module docs)."""
    company = company_currency(client)
    if company is None:
        return []
    by_code: dict[str, list[dict[str, Any]]] = {}
    for row in exchange_rates(client, str(company["id"])):
        by_code.setdefault(str(row["fromCurrencyCode"]), []).append(row)
    out: list[Record] = []
    for code, rows in sorted(by_code.items()):
        rows.sort(key=lambda r: (_stamp(r["effectiveAt"], "effectiveAt"), str(r["id"])))
        for n, row in enumerate(rows):
            nxt = rows[n + 1] if n + 1 < len(rows) else None
            stamps = [_stamp(row.get("updatedAt") or row.get("createdAt") or row["effectiveAt"], "updatedAt")]
            if nxt is not None:
                stamps += [
                    _stamp(nxt.get(k), k) for k in ("createdAt", "updatedAt") if nxt.get(k) is not None
                ]
            out.append(
                {
                    "Id": str(row["id"]),
                    "IsoCode": code,
                    "ConversionRate": _reciprocal(row["conversionRate"], f"exchange rate {row['id']}"),
                    "StartDate": _stamp(row["effectiveAt"], "effectiveAt").date().isoformat(),
                    "NextStartDate": None
                    if nxt is None
                    else _stamp(nxt["effectiveAt"], "effectiveAt").date().isoformat(),
                    "SystemModstamp": _iso(max(stamps)),
                }
            )
    return out


def currency_types(client: ApiClient) -> list[Record]:
    """The company currency and each currency's latest rate as ``CurrencyType`` records."""
    company = company_currency(client)
    if company is None:
        return []
    code = str(company["id"])
    created = company.get("createdAt")
    out: list[Record] = [
        {
            "Id": f"hubspot-currency-{code}",
            "IsoCode": code,
            "ConversionRate": 1.0,
            "DecimalPlaces": None,
            "IsActive": True,
            "IsCorporate": True,
            "SystemModstamp": _iso(_stamp(created, "company currency createdAt"))
            if created
            else "1970-01-01T00:00:00.000Z",
        }
    ]
    latest: dict[str, dict[str, Any]] = {}
    for row in exchange_rates(client, code):
        key = (_stamp(row["effectiveAt"], "effectiveAt"), str(row["id"]))
        have = latest.get(row["fromCurrencyCode"])
        if have is None or key > (_stamp(have["effectiveAt"], "effectiveAt"), str(have["id"])):
            latest[row["fromCurrencyCode"]] = row
    for iso, row in sorted(latest.items()):
        out.append(
            {
                "Id": f"hubspot-currency-{iso}",
                "IsoCode": iso,
                "ConversionRate": _reciprocal(row["conversionRate"], f"exchange rate {row['id']}"),
                "DecimalPlaces": None,
                "IsActive": bool(row.get("visibleInUI", True)),
                "IsCorporate": False,
                "SystemModstamp": _iso(
                    _stamp(row.get("updatedAt") or row.get("createdAt") or row["effectiveAt"], "updatedAt")
                ),
            }
        )
    return out


def read(
    client: ApiClient, hubspot_object: str, since: datetime | None, until: datetime
) -> Iterator[list[Record]]:
    """The records of ``currencies`` / ``exchange_rates`` whose stamp is in ``(since, until]``."""
    records = currency_types(client) if hubspot_object == "currencies" else dated_rates(client)
    lo, hi = (None if since is None else as_utc(since)), as_utc(until)
    page = [
        r
        for r in records
        if (when := _stamp(r["SystemModstamp"], "SystemModstamp")) <= hi and (lo is None or when > lo)
    ]
    if page:
        yield page
