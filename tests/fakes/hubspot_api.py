"""A stateful fake HubSpot portal on 127.0.0.1 (pytest-httpserver): deals, their company
associations, contacts, products, line items and their deal associations, archived records,
owners (for the clock), properties.

It keeps records and answers from them, the way HubSpot behaves where it matters here:

* ``POST /crm/v3/objects/{deals|contacts|products|line_items}/search``: change-stamp
  (``hs_lastmodifieddate``; contacts ``lastmodifieddate``) ``GT``/``LTE`` filters (epoch ms),
  ``lifecyclestage`` ``IN``/``NOT_IN`` (leads and contacts share the object), ascending sort,
  ``limit``/``after`` paging, ``total``.
* ``GET /crm/v3/objects/{deals|contacts|products|line_items}`` (``archived=true|false``,
  ``properties``, ``after`` paging).
* ``POST /crm/v4/associations/deals/companies/batch/read``: per deal its companies with
  ``associationTypes`` (type 5 = primary, 341 = unlabeled), :attr:`assoc_page` per page with
  ``paging.next.after``; ``.../line_items/deals/batch/read`` the same for a line item's deal
  (type 20, HubSpot's line item -> deal).
* **Association changes do not move ``hs_lastmodifieddate``** (:meth:`associate`), as in HubSpot;
  property changes do (:meth:`update`).
* ``GET /crm/v3/owners``: an empty owner list; its ``Date`` header is the portal's clock.
* ``GET /crm/v3/properties/{deals|contacts|products|line_items}``: the properties the portal has
  (contacts include HubSpot's default ``date_of_birth``, a text property: what a user typed).
* ``GET /settings/v3/currencies/company-currency`` and ``GET /settings/v3/currencies/exchange-rates``
  (``limit``/``after`` paging): :attr:`company_currency` and :attr:`exchange_rates` (the API's own
  JSON objects, e.g. loaded from a recorded fixture); :attr:`currencies_status` answers every
  currencies call with that status instead (403 = token without the currencies scope).
"""

from __future__ import annotations

import email.utils
import itertools
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PRIMARY, UNLABELED = 5, 341
LINE_ITEM_TO_DEAL = 20
DEAL_PROPERTIES = [
    "dealname",
    "amount",
    "dealstage",
    "closedate",
    "hubspot_owner_id",
    "createdate",
    "hs_lastmodifieddate",
    "hs_object_id",
    "deal_currency_code",
]
PRODUCT_PROPERTIES = [
    "name",
    "hs_sku",
    "price",
    "hs_product_type",
    "createdate",
    "hs_lastmodifieddate",
    "hs_object_id",
]
LINE_ITEM_PROPERTIES = [
    "name",
    "hs_product_id",
    "hs_sku",
    "quantity",
    "price",
    "amount",
    "hs_discount_percentage",
    "hs_line_item_currency_code",
    "createdate",
    "hs_lastmodifieddate",
    "hs_object_id",
]
CONTACT_PROPERTIES = [
    "firstname",
    "lastname",
    "email",
    "phone",
    "address",
    "city",
    "zip",
    "state",
    "country",
    "jobtitle",
    "associatedcompanyid",
    "hs_analytics_source",
    "hubspot_owner_id",
    "lifecyclestage",
    "date_of_birth",
    "createdate",
    "lastmodifieddate",
    "hs_object_id",
]
PROPERTIES = {
    "deals": DEAL_PROPERTIES,
    "contacts": CONTACT_PROPERTIES,
    "products": PRODUCT_PROPERTIES,
    "line_items": LINE_ITEM_PROPERTIES,
}
MODSTAMP = {"contacts": "lastmodifieddate"}  # the others: hs_lastmodifieddate


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


class FakeHubSpot:
    """One fake portal. ``deals[id]`` = properties; ``associations[deal id]`` = {company id: type}."""

    def __init__(self, clock: datetime) -> None:
        self.clock = clock
        self.deals: dict[str, dict[str, Any]] = {}
        self.archived: dict[str, datetime] = {}
        self.associations: dict[str, dict[str, int]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, dict[str, Any]] = {}
        self.line_item_deal: dict[str, dict[str, int]] = {}  # line item id -> {deal id: type}
        self.objects = {
            "deals": self.deals,
            "contacts": self.contacts,
            "products": self.products,
            "line_items": self.line_items,
        }
        self.archived_objects: dict[str, dict[str, datetime]] = {
            "deals": self.archived,
            "contacts": {},
            "products": {},
            "line_items": {},
        }
        self.links = {("deals", "companies"): self.associations, ("line_items", "deals"): self.line_item_deal}
        self.assoc_page = 2  # companies per association result page
        self.company_currency: dict[str, Any] = {"id": "USD", "createdAt": "2026-01-01T00:00:00Z"}
        self.exchange_rates: list[dict[str, Any]] = []
        self.rates_page = 2  # exchange rates per page
        self.currencies_status: int | None = None
        self.calls: list[tuple[str, str]] = []
        self.search_bodies: list[tuple[str, dict[str, Any]]] = []  # (object, request body)
        self._ids = itertools.count(9001)
        self._lock = threading.RLock()
        self.server: HTTPServer | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> FakeHubSpot:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)
        self.server.start()
        wsgi = self.server.server
        assert wsgi is not None
        fake = self

        class _Handler(wsgi.RequestHandlerClass):  # type: ignore[name-defined, misc]
            def date_time_string(self, timestamp: float | None = None) -> str:
                return email.utils.format_datetime(fake.clock.astimezone(UTC), usegmt=True)

        wsgi.RequestHandlerClass = _Handler
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None and self.server.is_running():
            self.server.clear()
            self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    # -- state ------------------------------------------------------------------------------
    def add_deal(self, name: str, *, company: str | None = None, **props: Any) -> str:
        with self._lock:
            did = str(next(self._ids))
            self.deals[did] = {
                "dealname": name,
                "amount": "1000",
                "dealstage": "appointmentscheduled",
                "closedate": "2026-12-31T00:00:00.000Z",
                "hubspot_owner_id": None,
                "createdate": _iso(self.clock),
                "hs_lastmodifieddate": _iso(self.clock),
                "hs_object_id": did,
                "deal_currency_code": None,  # requested properties come back, null when unset
                **props,
            }
            self.associations[did] = {company: PRIMARY} if company else {}
            return did

    def _new(self, hs_object: str, props: dict[str, Any]) -> str:
        rid = str(next(self._ids))
        base = dict.fromkeys(PROPERTIES[hs_object])  # requested properties come back, null when unset
        stamp = _iso(self.clock)
        self.objects[hs_object][rid] = {
            **base,
            "createdate": stamp,
            MODSTAMP.get(hs_object, "hs_lastmodifieddate"): stamp,
            "hs_object_id": rid,
            **props,
        }
        return rid

    def add_contact(
        self, firstname: str, lastname: str, *, lifecyclestage: str = "customer", **props: Any
    ) -> str:
        """A contact; ``lifecyclestage`` before "opportunity" makes it a Lead in the pipeline."""
        with self._lock:
            return self._new(
                "contacts",
                {"firstname": firstname, "lastname": lastname, "lifecyclestage": lifecyclestage, **props},
            )

    def add_product(self, name: str, **props: Any) -> str:
        with self._lock:
            return self._new("products", {"name": name, **props})

    def add_line_item(self, deal: str, product: str | None, **props: Any) -> str:
        """A line item on one deal (HubSpot: a line item belongs to one parent); ``product`` is
        its ``hs_product_id`` (None: a one-off line not from the product library)."""
        with self._lock:
            lid = self._new("line_items", {"hs_product_id": product, **props})
            self.line_item_deal[lid] = {deal: LINE_ITEM_TO_DEAL}
            return lid

    def archive(self, hs_object: str, rid: str) -> None:
        """Archive (delete) a record: it leaves the search and appears in ``archived=true``."""
        with self._lock:
            del self.objects[hs_object][rid]
            self.archived_objects[hs_object][rid] = self.clock

    def update(self, did: str, **props: Any) -> None:
        """A property edit: moves hs_lastmodifieddate."""
        with self._lock:
            self.deals[did].update(props, hs_lastmodifieddate=_iso(self.clock))

    def associate(self, did: str, company: str, type_id: int = PRIMARY, *, only: bool = True) -> None:
        """Associate a deal with a company (``only``: replacing its others). The deal's
        hs_lastmodifieddate does NOT move."""
        with self._lock:
            if only:
                self.associations[did] = {}
            self.associations[did][company] = type_id

    def tick(self, delta: timedelta) -> datetime:
        self.clock += delta
        return self.clock

    def company_of(self, did: str) -> str | None:
        """What a correct staging table holds as the deal's AccountId (primary, else lowest id)."""
        links = self.associations.get(did) or {}
        primary = sorted((c for c, t in links.items() if t == PRIMARY), key=int)
        return (primary or sorted(links, key=int) or [None])[0]

    # -- HTTP -------------------------------------------------------------------------------
    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.calls.append((request.method, request.path))
            path, method = request.path, request.method
            if path == "/crm/v3/owners":
                return _json({"results": []})
            parts = path.strip("/").split("/")
            if parts[:3] == ["crm", "v3", "properties"] and len(parts) == 4 and parts[3] in PROPERTIES:
                return _json({"results": [{"name": p} for p in PROPERTIES[parts[3]]]})
            if parts[:3] == ["crm", "v3", "objects"] and len(parts) >= 4 and parts[3] in self.objects:
                if len(parts) == 5 and parts[4] == "search" and method == "POST":
                    return self._search(request.get_json(), parts[3])
                if len(parts) == 4 and method == "GET":
                    return self._list(request.args, parts[3])
            if (
                parts[:3] == ["crm", "v4", "associations"]
                and parts[5:] == ["batch", "read"]
                and (parts[3], parts[4]) in self.links
                and method == "POST"
            ):
                return self._assoc(request.get_json(), parts[3], parts[4])
            if path.startswith("/settings/v3/currencies/") and self.currencies_status is not None:
                return _json({"status": "error", "category": "MISSING_SCOPES"}, self.currencies_status)
            if path == "/settings/v3/currencies/company-currency" and method == "GET":
                return _json(self.company_currency)
            if path == "/settings/v3/currencies/exchange-rates" and method == "GET":
                start = int(request.args.get("after") or 0)
                limit = min(int(request.args.get("limit", 100)), self.rates_page)
                out: dict[str, Any] = {"results": self.exchange_rates[start : start + limit]}
                if start + limit < len(self.exchange_rates):
                    out["paging"] = {"next": {"after": str(start + limit)}}
                return _json(out)
            return _json({"status": "error", "message": f"fake has no {method} {path}"}, 404)

    def _search(self, body: dict[str, Any], hs_object: str = "deals") -> Response:
        self.search_bodies.append((hs_object, body))
        rows = list(self.objects[hs_object].items())
        for f in body["filterGroups"][0]["filters"]:
            prop, op, value = f["propertyName"], f["operator"], f.get("value")
            if op == "HAS_PROPERTY":
                continue
            if op in ("IN", "NOT_IN"):
                wanted = set(f["values"])
                rows = [(i, p) for i, p in rows if (p.get(prop) in wanted) == (op == "IN")]
                continue
            bound = int(value)

            def stamp(props: dict[str, Any], prop: str = prop) -> int:
                return _ms(datetime.fromisoformat(props[prop].replace("Z", "+00:00")))

            if op == "GT":
                rows = [(i, p) for i, p in rows if stamp(p) > bound]
            elif op == "LTE":
                rows = [(i, p) for i, p in rows if stamp(p) <= bound]
            else:
                raise ValueError(f"fake search: operator {op}")
        modstamp = MODSTAMP.get(hs_object, "hs_lastmodifieddate")
        rows.sort(key=lambda r: (r[1][modstamp], int(r[0])))
        start = int(body.get("after") or 0)
        limit = int(body["limit"])
        chunk = rows[start : start + limit]
        out: dict[str, Any] = {
            "total": len(rows),
            "results": [
                {"id": i, "properties": {k: p.get(k) for k in body["properties"] if k in p}} for i, p in chunk
            ],
        }
        if start + limit < len(rows):
            out["paging"] = {"next": {"after": str(start + limit)}}
        return _json(out)

    def _list(self, args: Any, hs_object: str = "deals") -> Response:
        limit = int(args.get("limit", 100))
        start = int(args.get("after") or 0)
        if args.get("archived") == "true":
            items = [
                {"id": i, "archivedAt": _iso(w), "properties": {}}
                for i, w in sorted(self.archived_objects[hs_object].items())
            ]
        else:
            props = [p for p in (args.get("properties") or "").split(",") if p]
            items = [
                {"id": i, "properties": {k: d.get(k) for k in props}}
                for i, d in sorted(self.objects[hs_object].items())
            ]
        out: dict[str, Any] = {"results": items[start : start + limit]}
        if start + limit < len(items):
            out["paging"] = {"next": {"after": str(start + limit)}}
        return _json(out)

    def _assoc(
        self, body: dict[str, Any], from_object: str = "deals", to_object: str = "companies"
    ) -> Response:
        results = []
        table = self.links[(from_object, to_object)]
        for inp in body["inputs"]:
            did = str(inp["id"])
            if did not in self.objects[from_object]:
                continue
            links = sorted(table.get(did, {}).items(), key=lambda kv: int(kv[0]))
            start = int(inp.get("after") or 0)
            page = links[start : start + self.assoc_page]
            res: dict[str, Any] = {
                "from": {"id": did},
                "to": [
                    {
                        "toObjectId": int(c),
                        "associationTypes": [
                            {
                                "category": "HUBSPOT_DEFINED",
                                "typeId": t,
                                "label": "Primary" if t == PRIMARY else None,
                            }
                        ],
                    }
                    for c, t in page
                ],
            }
            if start + self.assoc_page < len(links):
                res["paging"] = {"next": {"after": str(start + self.assoc_page)}}
            results.append(res)
        return _json({"status": "COMPLETE", "results": results})


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
