"""HubSpot CRM v3 source: companies, contacts (as Lead and Contact), deals, products, line items
and owners.

The property map in include/config/sources/hubspot.yaml turns HubSpot properties into the
manifest's Salesforce-style fields (``dealstage`` -> ``StageName`` through a stage map,
``amount`` -> ``Amount``, ``closedate`` -> ``CloseDate``, ``hubspot_owner_id`` -> ``OwnerId``,
``hs_lastmodifieddate`` -> ``SystemModstamp`` ...).

Calls:

* ``GET /crm/v3/properties/{object}`` once per object type: mapped properties the portal lacks
  are dropped and reported (:attr:`HubSpotSource.dropped_fields`).
* ``POST /crm/v3/objects/{object}/search`` with ``{modstamp} GT since`` and ``LTE until``
  (epoch milliseconds), sorted ascending, ``after`` paging. Search cannot page past 10,000
  results: when a window's ``total`` exceeds the cap the window is split in two and each half
  is read on its own (recursively).
* ``GET /crm/v3/owners`` (all pages, active and archived) for ``User``, filtered on ``updatedAt``.
* ``GET /settings/v3/currencies/company-currency`` and ``.../exchange-rates`` for ``CurrencyType``
  and ``DatedConversionRate`` (multi-currency; :mod:`salesops.sources.hubspot_currency`); deals
  carry their currency in ``deal_currency_code`` (``CurrencyIsoCode``).
* ``GET /crm/v3/objects/{object}?archived=true`` for deletes (``archivedAt`` in the window).
* Merged records: when the portal has ``hs_merged_object_ids``, the search asks for it; ids merged
  into a survivor are reported as deletes (at the survivor's modification time) and mapped in
  :attr:`HubSpotSource.merged` (merged-away id -> survivor id).
* Associations as lookup fields (deal -> company = ``AccountId``, line item -> deal =
  ``OpportunityLineItem.OpportunityId``): ``POST
  /crm/v4/associations/{from}/{to}/batch/read`` for every record read, plus a re-read of every
  record's associations each ``association_refresh_days`` (association changes do not move
  ``hs_lastmodifieddate``); see :mod:`salesops.sources.hubspot_associations`.
* ``POST /crm/v3/objects/{object}/batch/read`` (100 ids per call) for ``get_records``.
* ``POST /crm/v3/objects/{object}/batch/update`` (100 inputs per call) for ``update_records``,
  with per-record results from the 200/207 answer; a field marked ``read_only`` in hubspot.yaml
  (Contact.Birthdate) is refused before any call.
* A ``date`` transform value that is not a date (``date_of_birth`` typed as "14/03/1987") lands
  as it is with a note naming the property; the loader quarantines the row with that reason, or,
  for a field objects.yaml marks ``on_bad_value: warn`` (Contact.Birthdate), loads the row with
  the field empty and keeps the note as a warning in ops.quarantine.
* Server time: the ``Date`` header of a one-owner request, minus ``search_lag_seconds`` because
  the search index trails writes.

Authentication: a private-app access token in the Airflow connection's password (connection id
``hubspot_default``; ``host`` optional, default ``https://api.hubapi.com``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any

import requests

from salesops.sources import hubspot_associations, hubspot_currency
from salesops.sources.base import NOTES_KEY, DeletedRecord, Page, Record, SourceError, UpdateResult
from salesops.sources.http import (
    ApiClient,
    ApiError,
    as_utc,
    check_records,
    chunks,
    decode_json,
    http_date,
    parse_api_datetime,
    require_keys,
)

log = logging.getLogger(__name__)

MERGED_IDS = "hs_merged_object_ids"  # ids merged into a record (semicolon-separated)


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """include/config/sources/hubspot.yaml."""
    from salesops.config import load_yaml

    return load_yaml("sources/hubspot.yaml")


def _ms(ts: datetime) -> str:
    return str(int(as_utc(ts).timestamp() * 1000))


class HubSpotClient(ApiClient):
    """Bearer-token client for api.hubapi.com."""

    def __init__(self, token: str, base_url: str | None = None, **kwargs: Any) -> None:
        if not token:
            raise SourceError("HubSpot: no private-app token (put it in the connection's password)")
        super().__init__(base_url or settings()["base_url"], name="hubspot", **kwargs)
        self._token = token

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}


class HubSpotSource:
    """:class:`~salesops.sources.base.CrmSource` over HubSpot CRM v3.

    Args:
        client: a :class:`HubSpotClient`.
        config: the parsed hubspot.yaml (default: the project's).
    """

    name = "hubspot"

    def __init__(self, client: HubSpotClient, config: dict[str, Any] | None = None) -> None:
        self.client = client
        self.cfg = config or settings()
        self.page_size = int(self.cfg.get("page_size", 100))
        self.cap = int(self.cfg.get("search_result_cap", 10000))
        self.batch_size = int(self.cfg.get("batch_size", 100))
        self.lag = timedelta(seconds=float(self.cfg.get("search_lag_seconds", 0)))
        self.transient_categories = set(self.cfg.get("transient_categories", []))
        self.dropped_fields: dict[str, list[str]] = {}
        self._properties: dict[str, set[str]] = {}
        # merged records: object -> {merged-away id: survivor id}; the merged-away ids are
        # reported by read_deleted (HubSpot keeps no archived record for them)
        self.merged: dict[str, dict[str, str]] = {}
        self._merged_deletes: dict[str, dict[str, DeletedRecord]] = {}
        # association fields are re-read for every record on this cadence (the loader's
        # formula-refresh hook: values that change without moving the modstamp)
        self.formula_refresh_days = float(self.cfg.get("association_refresh_days", 0)) or None
        self.primary_type_ids = {int(t) for t in self.cfg.get("primary_association_type_ids", [5])}

    @classmethod
    def from_conn_id(cls, conn_id: str = "hubspot_default") -> HubSpotSource:
        """Build from an Airflow connection through :class:`HubSpotCrmHook`."""
        return cls(__getattr__("HubSpotCrmHook")(conn_id).get_conn())

    # -- mapping ----------------------------------------------------------------------------
    def _object_cfg(self, api_name: str) -> dict[str, Any] | None:
        return (self.cfg.get("objects") or {}).get(api_name)

    def _field_specs(self, api_name: str, fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Requested manifest field -> {property, value_map, transform} for the mapped ones."""
        ocfg = self._object_cfg(api_name) or {}
        out: dict[str, dict[str, Any]] = {}
        for f in fields:
            spec = (ocfg.get("fields") or {}).get(f)
            if spec is None:
                continue
            out[f] = {"property": spec} if isinstance(spec, str) else dict(spec)
        return out

    def portal_properties(self, hs_object: str) -> set[str]:
        """Property names the portal has for an object type (cached)."""
        if hs_object not in self._properties:
            payload = self.client.get_json(f"/crm/v3/properties/{hs_object}")
            body = require_keys(payload, ["results"], f"HubSpot properties of {hs_object}")
            self._properties[hs_object] = {p["name"] for p in body["results"]}
        return self._properties[hs_object]

    def _available(
        self, api_name: str, hs_object: str, specs: dict[str, dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        have = self.portal_properties(hs_object)
        dropped = [f for f, s in specs.items() if s["property"] not in have]
        if dropped and self.dropped_fields.get(api_name) != dropped:
            self.dropped_fields[api_name] = dropped
            log.warning(
                "hubspot: %s: the portal has no %s properties %s; extracting without them",
                api_name,
                hs_object,
                [specs[f]["property"] for f in dropped],
            )
        return {f: s for f, s in specs.items() if f not in dropped}

    def _value(self, raw: Any, spec: dict[str, Any]) -> Any:
        if raw is None or raw == "":
            return None
        if spec.get("value_map"):
            return (self.cfg["value_maps"][spec["value_map"]] or {}).get(raw, raw)
        transform = spec.get("transform")
        if transform == "date":
            when = parse_api_datetime(raw)
            return when.date().isoformat() if when else raw
        if transform == "percent":
            try:
                return round(float(raw) * 100, 4)
            except (TypeError, ValueError):
                return raw
        if transform == "bool":
            return {"true": True, "false": False}.get(str(raw).lower(), raw)
        return raw

    def _to_record(
        self, obj: dict[str, Any], specs: dict[str, dict[str, Any]], hs_object: str | None = None
    ) -> Record:
        """One HubSpot object as a manifest record. With ``hs_object`` (an extract), a value a
        ``date`` transform cannot read stays as it is and gets a note (``NOTES_KEY``) naming the
        property: the loader gives that reason (quarantine, or a warning for an ``on_bad_value: warn``
        field) instead of a bare "cannot parse"."""
        props = obj.get("properties") or {}
        rec: Record = {"Id": str(obj["id"])}
        notes: dict[str, str] = {}
        for f, spec in specs.items():
            raw = props.get(spec["property"])
            rec[f] = self._value(raw, spec)
            if (
                hs_object is not None
                and spec.get("transform") == "date"
                and rec[f] is not None
                and parse_api_datetime(raw) is None
            ):
                notes[f] = (
                    f"HubSpot {hs_object} property {spec['property']}: cannot parse '{str(raw)[:80]}' as "
                    "date: expected YYYY-MM-DD or an ISO 8601 date-time"
                )
        if notes:
            rec[NOTES_KEY] = notes
        return rec

    def _lifecycle_filter(self, ocfg: dict[str, Any]) -> dict[str, Any] | None:
        kind = ocfg.get("lifecycle")
        if kind is None:
            return None
        stages = list(self.cfg.get("lead_lifecycle_stages", []))
        return {
            "propertyName": "lifecyclestage",
            "operator": "IN" if kind == "lead" else "NOT_IN",
            "values": stages,
        }

    # -- CrmSource --------------------------------------------------------------------------
    def server_time(self) -> datetime:
        response = self.client.request("GET", "/crm/v3/owners", params={"limit": 1})
        when = http_date(response)
        if when is None:
            raise SourceError("HubSpot response has no usable Date header")
        return when - self.lag

    def read_changes(
        self, api_name: str, fields: Sequence[str], cursor: str, since: datetime | None, until: datetime
    ) -> Iterator[Page]:
        ocfg = self._object_cfg(api_name)
        if ocfg is None:
            log.info("hubspot: no HubSpot mapping for %s; nothing to read", api_name)
            return
        if ocfg["hubspot_object"] == "owners":
            yield from self._read_owners(since, until)
            return
        if ocfg["hubspot_object"] in hubspot_currency.OBJECTS:
            yield from hubspot_currency.read(self.client, ocfg["hubspot_object"], since, until)
            return
        hs_object = ocfg["hubspot_object"]
        specs = self._available(api_name, hs_object, self._field_specs(api_name, fields))
        modprop = ocfg["modstamp"]
        if cursor in specs and specs[cursor]["property"] != modprop:
            raise SourceError(
                f"HubSpot {api_name}: cursor {cursor} maps to {specs[cursor]['property']}, not {modprop}"
            )
        properties = sorted({s["property"] for s in specs.values()} | {modprop})
        if MERGED_IDS in self.portal_properties(hs_object):
            properties.append(MERGED_IDS)
        self.merged.setdefault(api_name, {})
        self._merged_deletes[api_name] = {}
        lo = None if since is None else int(_ms(since))
        assoc = self._associations(api_name, fields)
        for page in self._search_window(
            api_name, hs_object, specs, properties, modprop, ocfg, lo, int(_ms(until))
        ):
            if assoc:
                hubspot_associations.attach(
                    self.client,
                    hs_object,
                    page,
                    assoc,
                    batch_size=self.batch_size,
                    primary_type_ids=self.primary_type_ids,
                )
            yield page

    def _associations(self, api_name: str, fields: Sequence[str]) -> dict[str, str]:
        """Requested manifest fields that are associations: ``{field: associated object type}``."""
        configured = (self._object_cfg(api_name) or {}).get("associations") or {}
        return {f: to for f, to in configured.items() if f in fields}

    def read_formula_values(
        self, api_name: str, fields: Sequence[str], cursor: str, until: datetime
    ) -> Iterator[Page]:
        """Every live record's association fields (``Id``, cursor, associations), for the refresh.

        Named after the loader's hook for values that change without moving the change stamp
        (Salesforce formulas); for HubSpot those are the associations.
        """
        ocfg = self._object_cfg(api_name)
        assoc = self._associations(api_name, fields)
        if ocfg is None or not assoc:
            return
        log.info("hubspot: %s: re-reading every record's associations %s", api_name, sorted(assoc))
        yield from hubspot_associations.read_all(
            self.client,
            ocfg["hubspot_object"],
            ocfg["modstamp"],
            cursor,
            assoc,
            page_size=self.page_size,
            batch_size=self.batch_size,
            primary_type_ids=self.primary_type_ids,
        )

    def _search_window(
        self,
        api_name: str,
        hs_object: str,
        specs: dict[str, dict[str, Any]],
        properties: list[str],
        modprop: str,
        ocfg: dict[str, Any],
        lo: int | None,
        hi: int,
    ) -> Iterator[Page]:
        filters: list[dict[str, Any]] = [{"propertyName": modprop, "operator": "LTE", "value": str(hi)}]
        if lo is not None:
            filters.insert(0, {"propertyName": modprop, "operator": "GT", "value": str(lo)})
        lifecycle = self._lifecycle_filter(ocfg)
        if lifecycle:
            filters.append(lifecycle)
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": modprop, "direction": "ASCENDING"}],
            "properties": properties,
            "limit": self.page_size,
        }
        page = 0
        while True:
            page += 1
            payload = decode_json(
                self.client.request(
                    "POST", f"/crm/v3/objects/{hs_object}/search", json=body, idempotent=True
                ),
                "hubspot",
            )
            data = require_keys(payload, ["results"], f"HubSpot {api_name} search page {page}")
            if page == 1 and int(data.get("total", 0)) > self.cap:
                start = lo if lo is not None else self._earliest(hs_object, modprop, lifecycle)
                if start is None or hi - start <= 1:
                    raise SourceError(
                        f"HubSpot {api_name}: {data['total']} records changed within one millisecond "
                        f"window ending {hi}; cannot split below the {self.cap}-result search cap"
                    )
                mid = start + (hi - start) // 2
                log.info(
                    "hubspot: %s: %s results exceed the search cap %s; splitting the window at %s",
                    api_name,
                    data["total"],
                    self.cap,
                    mid,
                )
                yield from self._search_window(
                    api_name, hs_object, specs, properties, modprop, ocfg, start, mid
                )
                yield from self._search_window(api_name, hs_object, specs, properties, modprop, ocfg, mid, hi)
                return
            results = data["results"]
            check_records(
                [r.get("properties") or {} for r in results],
                [p for p in properties if p != MERGED_IDS],  # HubSpot may omit it when empty
                obj=api_name,
                page=page,
                key="hs_object_id",
            )
            if MERGED_IDS in properties:
                self._note_merges(api_name, results, modprop)
            records = [self._to_record(r, specs, hs_object) for r in results]
            if records:
                yield records
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            body = {**body, "after": after}

    def _earliest(self, hs_object: str, modprop: str, lifecycle: dict[str, Any] | None) -> int | None:
        """The oldest modstamp (epoch ms) of the object type: the lower bound for splitting a first load."""
        filters = [{"propertyName": modprop, "operator": "HAS_PROPERTY"}] + ([lifecycle] if lifecycle else [])
        payload = decode_json(
            self.client.request(
                "POST",
                f"/crm/v3/objects/{hs_object}/search",
                idempotent=True,  # a search: reading twice is harmless
                json={
                    "filterGroups": [{"filters": filters}],
                    "sorts": [{"propertyName": modprop, "direction": "ASCENDING"}],
                    "properties": [modprop],
                    "limit": 1,
                },
            ),
            "hubspot",
        )
        results = require_keys(payload, ["results"], f"HubSpot {hs_object} earliest")["results"]
        if not results:
            return None
        when = parse_api_datetime((results[0].get("properties") or {}).get(modprop))
        return None if when is None else int(_ms(when)) - 1

    def _owners(self, archived: bool) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 100, "archived": str(archived).lower()}
        page = 0
        while True:
            page += 1
            payload = self.client.get_json("/crm/v3/owners", params=params)
            data = require_keys(payload, ["results"], f"HubSpot owners page {page}")
            check_records(data["results"], ["id", "updatedAt"], obj="owners", page=page, key="id")
            yield from data["results"]
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params = {**params, "after": after}

    def _read_owners(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        lo, hi = (None if since is None else as_utc(since)), as_utc(until)
        records = []
        for archived in (False, True):
            for o in self._owners(archived):
                when = parse_api_datetime(o.get("updatedAt"))
                if when is None or when > hi or (lo is not None and when <= lo):
                    continue
                teams = o.get("teams") or []
                primary = next((t.get("name") for t in teams if t.get("primary")), None)
                name = " ".join(p for p in (o.get("firstName"), o.get("lastName")) if p) or None
                records.append(
                    {
                        "Id": str(o["id"]),
                        "Name": name,
                        "Email": o.get("email"),
                        "Team__c": primary,
                        "IsActive": not archived and not o.get("archived", False),
                        "CreatedDate": o.get("createdAt"),
                        "SystemModstamp": o.get("updatedAt"),
                    }
                )
        if records:
            yield records

    def _note_merges(self, api_name: str, results: list[dict[str, Any]], modprop: str) -> None:
        """A survivor lists the ids merged into it: those records are gone (deletes), mapped."""
        for r in results:
            props = r.get("properties") or {}
            raw = props.get(MERGED_IDS)
            if not raw:
                continue
            when = parse_api_datetime(props.get(modprop))
            if when is None:
                raise SourceError(f"HubSpot {api_name}: merged record {r.get('id')!r} has no {modprop}")
            for loser in (x.strip() for x in str(raw).split(";")):
                if loser and loser != str(r["id"]):
                    self.merged[api_name][loser] = str(r["id"])
                    self._merged_deletes[api_name][loser] = DeletedRecord(loser, when)

    def read_deleted(self, api_name: str, since: datetime | None, until: datetime) -> list[DeletedRecord]:
        ocfg = self._object_cfg(api_name)
        if (
            ocfg is None
            or ocfg["hubspot_object"] == "owners"
            or ocfg["hubspot_object"] in hubspot_currency.OBJECTS
        ):
            return []  # owners and currency settings have no archive
        merged = list(self._merged_deletes.pop(api_name, {}).values())
        if merged:
            log.info("hubspot: %s: %d records merged into survivors; deleting them", api_name, len(merged))
        return merged + self._read_archived(ocfg, api_name, since, until)

    def _read_archived(
        self, ocfg: dict[str, Any], api_name: str, since: datetime | None, until: datetime
    ) -> list[DeletedRecord]:
        lo, hi = (None if since is None else as_utc(since)), as_utc(until)
        params: dict[str, Any] = {"archived": "true", "limit": 100, "properties": "hs_object_id"}
        out: list[DeletedRecord] = []
        page = 0
        while True:
            page += 1
            payload = self.client.get_json(f"/crm/v3/objects/{ocfg['hubspot_object']}", params=params)
            data = require_keys(payload, ["results"], f"HubSpot {api_name} archived page {page}")
            for r in data["results"]:
                when = parse_api_datetime(r.get("archivedAt"))
                if when is None:
                    raise SourceError(
                        f"HubSpot {api_name} archived page {page}: record {r.get('id')!r} has no archivedAt"
                    )
                if when <= hi and (lo is None or when > lo):
                    out.append(DeletedRecord(str(r["id"]), when))
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return out
            params = {**params, "after": after}

    def get_records(self, api_name: str, ids: Sequence[str], fields: Sequence[str]) -> list[Record]:
        ocfg = self._object_cfg(api_name)
        if ocfg is None:
            raise SourceError(f"HubSpot: no mapping for {api_name}")
        if ocfg["hubspot_object"] == "owners":
            wanted = set(ids)
            recs = [r for page in self._read_owners(None, datetime.max.replace(tzinfo=UTC)) for r in page]
            return [{k: v for k, v in r.items() if k in {"Id", *fields}} for r in recs if r["Id"] in wanted]
        specs = self._available(api_name, ocfg["hubspot_object"], self._field_specs(api_name, fields))
        out: list[Record] = []
        for chunk in chunks(list(ids), self.batch_size):
            payload = decode_json(
                self.client.request(
                    "POST",
                    f"/crm/v3/objects/{ocfg['hubspot_object']}/batch/read",
                    idempotent=True,
                    json={
                        "properties": sorted({s["property"] for s in specs.values()}),
                        "inputs": [{"id": i} for i in chunk],
                    },
                    ok=(200, 207),
                ),
                "hubspot",
            )
            data = require_keys(payload, ["results"], f"HubSpot {api_name} batch read")
            out.extend(self._to_record(r, specs) for r in data["results"])
        order = {i: n for n, i in enumerate(ids)}
        return sorted(out, key=lambda r: order.get(r["Id"], len(order)))

    def _to_properties(self, api_name: str, upd: Record, i: int) -> dict[str, Any]:
        ocfg = self._object_cfg(api_name) or {}
        specs = self._field_specs(api_name, [k for k in upd if k != "Id"])
        props: dict[str, Any] = {}
        for f, value in upd.items():
            if f == "Id":
                continue
            if f not in specs:
                raise ValueError(
                    f"HubSpot {api_name} update #{i} ({upd['Id']}): field {f!r} has no HubSpot property in hubspot.yaml"
                )
            spec = specs[f]
            if spec.get("read_only"):
                raise ValueError(
                    f"HubSpot {api_name} update #{i} ({upd['Id']}): {f} is read-only "
                    f"(hubspot.yaml objects.{api_name}.fields.{f}.read_only): it is never written back"
                )
            if spec.get("value_map") and value is not None:
                reverse = {v: k for k, v in (self.cfg["value_maps"][spec["value_map"]] or {}).items()}
                if value not in reverse:
                    raise ValueError(
                        f"HubSpot {api_name} update #{i} ({upd['Id']}): {f}={value!r} has no HubSpot value in {spec['value_map']}"
                    )
                value = reverse[value]
            elif spec.get("transform") == "percent" and value is not None:
                value = float(value) / 100
            props[spec["property"]] = "" if value is None else value
        if not props:
            raise ValueError(f"HubSpot {api_name} update #{i} ({upd['Id']}) sets no field")
        if ocfg.get("hubspot_object") == "owners":
            raise ValueError("HubSpot owners (User) are read-only through the CRM API")
        return props

    def update_records(self, api_name: str, updates: Sequence[Record]) -> list[UpdateResult]:
        ocfg = self._object_cfg(api_name)
        if ocfg is None:
            raise SourceError(f"HubSpot: no mapping for {api_name}")
        inputs = []
        for i, upd in enumerate(updates):
            if not upd.get("Id"):
                raise ValueError(f"HubSpot {api_name} update #{i} has no 'Id': {upd}")
            inputs.append({"id": str(upd["Id"]), "properties": self._to_properties(api_name, upd, i)})
        results: list[UpdateResult] = []
        for chunk in chunks(inputs, self.batch_size):
            ids = [c["id"] for c in chunk]
            try:
                response = self.client.request(
                    "POST",
                    f"/crm/v3/objects/{ocfg['hubspot_object']}/batch/update",
                    json={"inputs": list(chunk)},
                    ok=(200, 207),
                )
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise
                results.extend(self._failed_chunk(ids, exc))
                continue
            payload = decode_json(response, "hubspot")
            done = {str(r.get("id")) for r in payload.get("results") or []}
            errors = self._errors_by_id(payload.get("errors") or [])
            for rid in ids:
                if rid in errors:
                    msg, category = errors[rid]
                    results.append(
                        UpdateResult(rid, False, [msg], transient=category in self.transient_categories)
                    )
                elif rid in done:
                    results.append(UpdateResult(rid, True))
                else:
                    results.append(
                        UpdateResult(rid, False, ["not in HubSpot's batch response"], transient=True)
                    )
        return results

    @staticmethod
    def _errors_by_id(errors: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
        out = {}
        for e in errors:
            category = e.get("category", "")
            for rid in (e.get("context") or {}).get("ids") or []:
                out[str(rid)] = (f"{category}: {e.get('message')}", category)
        return out

    def _failed_chunk(self, ids: list[str], exc: ApiError) -> list[UpdateResult]:
        """A rejected batch applies nothing: the records it names failed, the others can be retried."""
        body = exc.body if isinstance(exc.body, dict) else {}
        named = self._errors_by_id(body.get("errors") or ([body] if body.get("context") else []))
        out = []
        for rid in ids:
            if rid in named:
                out.append(
                    UpdateResult(
                        rid, False, [named[rid][0]], transient=named[rid][1] in self.transient_categories
                    )
                )
            elif named:
                out.append(
                    UpdateResult(
                        rid, False, ["not applied: the batch was rejected for other records"], transient=True
                    )
                )
            else:
                out.append(UpdateResult(rid, False, [str(exc)], transient=exc.transient))
        return out


def _hook_class() -> type:
    from airflow.sdk import BaseHook

    class HubSpotCrmHook(BaseHook):
        """Airflow hook giving a :class:`HubSpotClient`: private-app token in the password."""

        conn_name_attr = "hubspot_conn_id"
        default_conn_name = "hubspot_default"
        conn_type = "hubspot"
        hook_name = "HubSpot (salesops)"

        def __init__(
            self, hubspot_conn_id: str = default_conn_name, session: requests.Session | None = None
        ) -> None:
            super().__init__()
            self.hubspot_conn_id = hubspot_conn_id
            self._session = session

        @cached_property
        def client(self) -> HubSpotClient:
            conn = self.get_connection(self.hubspot_conn_id)
            host = conn.host or None
            if host and not host.startswith("http"):
                host = f"https://{host}"
            return HubSpotClient(conn.password or "", host, session=self._session)

        def get_conn(self) -> HubSpotClient:
            return self.client

    return HubSpotCrmHook


def __getattr__(name: str) -> Any:
    if name == "HubSpotCrmHook":
        cls = _hook_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
