"""Marketo Engage REST source (read-only): programs, program members, leads, lifecycle changes.

Manifest objects and where they come from (settings in include/config/sources/marketo.yaml):

=======================  ============================================================================
``Campaign``             programs: ``GET /rest/asset/v1/programs.json`` with ``earliestUpdatedAt`` /
                         ``latestUpdatedAt`` and ``offset`` paging (``ActualCost`` = the sum of the
                         program's period costs)
``CampaignMember``       program members: ``GET /rest/v1/programs/{id}/members.json`` per program,
                         ``filterType=updatedAt`` with ``startAt``/``endAt``, ``nextPageToken`` paging;
                         ``Id`` is ``<programId>-<leadId>``
``LifecycleStageChange`` activity type 104 "Change Status in Progression" in the lifecycle program(s):
                         ``GET /rest/v1/activities/pagingtoken.json?sinceDatetime=`` then
                         ``GET /rest/v1/activities.json?activityTypeIds=104&nextPageToken=`` while
                         ``moreResult``; statuses mapped to Lead/MQL/SQL/Opportunity
``Lead``                 leads with a New Lead / Change Data Value activity in the window, then
                         ``GET /rest/v1/leads.json?filterType=id`` (300 ids per call)
deletes (``Lead``)       ``GET /rest/v1/activities/deletedleads.json``
=======================  ============================================================================

Marketo answers most errors with HTTP 200 and ``success: false``: codes 601/602 (token invalid or
expired) get a new token and one retry; 606 (rate limit) and 615 (concurrency limit), and the
other codes in ``transient_errors``, are retried with the same exponential backoff as HTTP 429.
Tokens come from ``GET /identity/oauth/token`` (client credentials) and are renewed a minute
before they expire. Writes are not supported: :meth:`MarketoSource.update_records` raises.

Airflow connection (default id ``marketo_default``): ``host`` = the REST endpoint
(``https://123-ABC-456.mktorest.com``), ``login`` = client id, ``password`` = client secret.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

import requests

from salesops.sources.base import DeletedRecord, Page, Record, SourceError, UpdateResult
from salesops.sources.http import (
    ApiClient,
    as_utc,
    chunks,
    decode_json,
    http_date,
    iso_api,
    parse_api_datetime,
    require_keys,
)

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """include/config/sources/marketo.yaml."""
    from salesops.config import load_yaml

    return load_yaml("sources/marketo.yaml")


def marketo_datetime(value: Any) -> str | None:
    """Marketo's datetimes (``2026-10-01T10:00:00Z``, the asset API's ``...Z+0000``) -> API text."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.endswith("Z+0000"):
        text = text[:-6] + "+00:00"
    when = parse_api_datetime(text)
    return iso_api(when) if when else str(value)


def _date_part(value: Any) -> str | None:
    when = parse_api_datetime(value)
    return when.date().isoformat() if when else None


def _iso_param(ts: datetime) -> str:
    return as_utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


class MarketoError(SourceError):
    """Marketo answered ``success: false`` with a non-retryable code."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class MarketoClient(ApiClient):
    """REST client with Marketo's identity token and ``success: false`` handling.

    Args:
        base_url: the instance's REST endpoint, ``https://123-ABC-456.mktorest.com``.
        client_id: LaunchPoint API client id.
        client_secret: its secret.
        clock: monotonic clock for token expiry (patched in tests).
        **kwargs: passed to :class:`~salesops.sources.http.ApiClient`.
    """

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, *, clock: Any = time.monotonic, **kwargs: Any
    ):
        if not base_url or not client_id or not client_secret:
            raise SourceError(
                "Marketo: need the REST endpoint (host), client id (login) and client secret (password)"
            )
        super().__init__(base_url, name="marketo", **kwargs)
        self._client_id, self._client_secret = client_id, client_secret
        self._token: str | None = None
        self._expires_at = 0.0
        self._clock = clock
        cfg = settings()
        self.transient_codes = {int(c) for c in cfg.get("transient_errors", [])}
        self.token_codes = {int(c) for c in cfg.get("token_errors", [601, 602])}

    def _new_token(self) -> None:
        # The secret travels as a query parameter (Marketo's documented form); ApiClient never logs queries.
        payload = decode_json(
            self.request(
                "GET",
                "/identity/oauth/token",
                authenticated=False,
                params={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
            ),
            "marketo",
        )
        body = require_keys(payload, ["access_token", "expires_in"], "Marketo identity token response")
        self._token = body["access_token"]
        self._expires_at = self._clock() + float(body["expires_in"])
        log.info("marketo: new access token, valid for %ss", body["expires_in"])

    def auth_headers(self) -> dict[str, str]:
        if self._token is None or self._clock() > self._expires_at - 60:
            self._new_token()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh_auth(self) -> bool:
        self._new_token()
        return True

    def call(self, path: str, params: dict[str, Any] | None = None, *, what: str = "") -> dict[str, Any]:
        """GET a Marketo REST resource and return the envelope of a ``success: true`` answer.

        Raises:
            MarketoError: a non-retryable Marketo error code, or retries exhausted.
        """
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            payload = decode_json(self.request("GET", path, params=params), "marketo")
            body = require_keys(payload, ["success"], f"Marketo {what or path}")
            if body["success"]:
                return body
            errors = body.get("errors") or []
            codes = {int(e.get("code", 0)) for e in errors if str(e.get("code", "")).isdigit()}
            text = "; ".join(f"{e.get('code')} {e.get('message')}" for e in errors) or "no error detail"
            if codes & self.token_codes and not refreshed:
                refreshed = True
                log.info("marketo: %s: token rejected (%s); renewing", what or path, sorted(codes))
                self._new_token()
                continue
            if codes and codes <= self.transient_codes and attempt < self.max_attempts:
                wait = self.backoff(attempt, None)
                log.warning(
                    "marketo: %s: %s; retry %s/%s in %.1fs",
                    what or path,
                    text,
                    attempt,
                    self.max_attempts - 1,
                    wait,
                )
                self.sleep(wait)
                continue
            raise MarketoError(f"Marketo {what or path}: {text}", code=min(codes) if codes else None)


class MarketoSource:
    """:class:`~salesops.sources.base.CrmSource` over Marketo's REST API (read-only)."""

    name = "marketo"

    def __init__(self, client: MarketoClient, config: dict[str, Any] | None = None) -> None:
        self.client = client
        self.cfg = config or settings()
        self._programs: list[dict[str, Any]] | None = None

    @classmethod
    def from_conn_id(cls, conn_id: str = "marketo_default") -> MarketoSource:
        """Build from an Airflow connection through :class:`MarketoHook`."""
        return cls(__getattr__("MarketoHook")(conn_id).get_conn())

    # -- CrmSource --------------------------------------------------------------------------
    def server_time(self) -> datetime:
        response = self.client.request("GET", "/rest/v1/activities/types.json")
        when = http_date(response)
        if when is None:
            raise SourceError("Marketo response has no usable Date header")
        return when

    def read_changes(
        self, api_name: str, fields: Sequence[str], cursor: str, since: datetime | None, until: datetime
    ) -> Iterator[Page]:
        readers = {
            "Campaign": self._read_programs,
            "CampaignMember": self._read_members,
            "LifecycleStageChange": self._read_lifecycle,
            "Lead": self._read_leads,
        }
        if api_name not in readers:
            log.info("marketo: %s is not a Marketo object; nothing to read", api_name)
            return
        yield from readers[api_name](fields, since, until)

    def read_deleted(self, api_name: str, since: datetime | None, until: datetime) -> list[DeletedRecord]:
        if api_name != "Lead" or since is None:
            return []
        out = []
        for act in self._paged_activities(
            "/rest/v1/activities/deletedleads.json", {}, since, until, "deleted leads"
        ):
            out.append(DeletedRecord(str(act["leadId"]), parse_api_datetime(act["activityDate"])))  # type: ignore[arg-type]
        return out

    def get_records(self, api_name: str, ids: Sequence[str], fields: Sequence[str]) -> list[Record]:
        if api_name != "Lead":
            raise SourceError(f"Marketo get_records supports Lead only, not {api_name}")
        return self._leads_by_id(list(ids), fields)

    def update_records(self, api_name: str, updates: Sequence[Record]) -> list[UpdateResult]:
        raise NotImplementedError(
            "Marketo is read-only in this pipeline: bulk updates go to the CRM (Salesforce/HubSpot), "
            "which syncs to Marketo"
        )

    # -- programs -> Campaign -----------------------------------------------------------------
    def _program_pages(self, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        size = int(self.cfg.get("programs_page_size", 200))
        offset = 0
        while True:
            body = self.client.call(
                "/rest/asset/v1/programs.json",
                {**params, "maxReturn": size, "offset": offset},
                what="programs",
            )
            result = body.get("result") or []  # "no assets found" comes back as success without result
            if result:
                yield result
            if len(result) < size:
                return
            offset += size

    def _read_programs(
        self, fields: Sequence[str], since: datetime | None, until: datetime
    ) -> Iterator[Page]:
        params = {"latestUpdatedAt": _iso_param(until)}
        if since is not None:
            params["earliestUpdatedAt"] = _iso_param(since)
        lo, hi = (None if since is None else as_utc(since)), as_utc(until)
        for result in self._program_pages(params):
            page = []
            for p in result:
                rec = self._program_record(p)
                when = parse_api_datetime(rec["SystemModstamp"])
                # the API's bounds are inclusive on both ends: enforce since < updatedAt <= until
                if when is not None and (when > hi or (lo is not None and when <= lo)):
                    continue
                page.append(rec)
            if page:
                yield page

    @staticmethod
    def _program_record(p: dict[str, Any]) -> Record:
        costs = p.get("costs") or []
        total = sum(float(c.get("cost") or 0) for c in costs) if costs else None
        return {
            "Id": str(p["id"]),
            "Name": p.get("name"),
            "Type": p.get("channel") or p.get("type"),
            "Status": p.get("status") or None,
            "ActualCost": total,
            "CreatedDate": marketo_datetime(p.get("createdAt")),
            "SystemModstamp": marketo_datetime(p.get("updatedAt")),
        }

    # -- program members -> CampaignMember -------------------------------------------------------
    def _read_members(self, fields: Sequence[str], since: datetime | None, until: datetime) -> Iterator[Page]:
        member_fields = ",".join(self.cfg.get("member_fields", []))
        start = since or parse_api_datetime(self.cfg.get("initial_since"))
        for program in (p for page in self._program_pages({}) for p in page):
            pid = str(program["id"])
            params: dict[str, Any] = {
                "filterType": "updatedAt",
                "startAt": _iso_param(start),
                "endAt": _iso_param(until),  # type: ignore[arg-type]
                "fields": member_fields,
                "batchSize": int(self.cfg.get("members_batch_size", 300)),
            }
            while True:
                body = self.client.call(
                    f"/rest/v1/programs/{pid}/members.json", params, what=f"program {pid} members"
                )
                page = []
                for m in body.get("result") or []:
                    when = parse_api_datetime(m.get("updatedAt"))
                    if since is not None and when is not None and when <= as_utc(since):
                        continue  # startAt is inclusive
                    page.append(
                        {
                            "Id": f"{pid}-{m['leadId']}",
                            "CampaignId": pid,
                            "LeadId": str(m["leadId"]),
                            "Status": m.get("statusName"),
                            "HasResponded": m.get("reachedSuccess"),
                            "FirstRespondedDate": _date_part(m.get("successDate")),
                            "CreatedDate": marketo_datetime(m.get("membershipDate")),
                            "SystemModstamp": marketo_datetime(m.get("updatedAt")),
                        }
                    )
                if page:
                    yield page
                token = body.get("nextPageToken")
                if not token or not body.get("result"):
                    break
                params = {**params, "nextPageToken": token}

    # -- activities ---------------------------------------------------------------------------
    def _paged_activities(
        self, path: str, params: dict[str, Any], since: datetime | None, until: datetime, what: str
    ) -> Iterator[dict[str, Any]]:
        """Activities with ``since < activityDate <= until``: a date paging token, then nextPageToken."""
        start = since or parse_api_datetime(self.cfg.get("initial_since"))
        body = self.client.call(
            "/rest/v1/activities/pagingtoken.json",
            {"sinceDatetime": _iso_param(start)},  # type: ignore[arg-type]
            what="paging token",
        )
        token = require_keys(body, ["nextPageToken"], "Marketo paging token")["nextPageToken"]
        lo, hi = (None if since is None else as_utc(since)), as_utc(until)
        page = 0
        while True:
            page += 1
            body = self.client.call(path, {**params, "nextPageToken": token}, what=f"{what} page {page}")
            for act in body.get("result") or []:
                when = parse_api_datetime(act.get("activityDate"))
                if when is None:
                    raise SourceError(
                        f"Marketo {what} page {page}: activity {act.get('id')!r} has no activityDate"
                    )
                if when <= hi and (lo is None or when > lo):
                    yield act
            # moreResult can be true on an empty page (Marketo keeps scanning): follow it regardless
            if not body.get("moreResult"):
                return
            token = body.get("nextPageToken") or token

    def _read_lifecycle(
        self, fields: Sequence[str], since: datetime | None, until: datetime
    ) -> Iterator[Page]:
        lc = self.cfg.get("lifecycle") or {}
        programs = set(lc.get("programs") or [])
        status_map = lc.get("status_map") or {}
        page: list[Record] = []
        params = {"activityTypeIds": int(lc.get("activity_type_id", 104))}
        for act in self._paged_activities(
            "/rest/v1/activities.json", params, since, until, "lifecycle activities"
        ):
            if programs and act.get("primaryAttributeValue") not in programs:
                continue
            attrs = {a.get("name"): a.get("value") for a in act.get("attributes") or []}
            old, new = attrs.get("Old Status"), attrs.get("New Status")
            page.append(
                {
                    "Id": str(act.get("marketoGUID") or act["id"]),
                    "LeadId": str(act["leadId"]),
                    "FromStage": status_map.get(old, old),
                    "ToStage": status_map.get(new, new),
                    "ChangedAt": marketo_datetime(act["activityDate"]),
                }
            )
        if page:
            yield page

    # -- leads --------------------------------------------------------------------------------
    def _read_leads(self, fields: Sequence[str], since: datetime | None, until: datetime) -> Iterator[Page]:
        params = {
            "activityTypeIds": ",".join(str(t) for t in self.cfg.get("lead_change_activity_types", [12, 13]))
        }
        ids = list(
            dict.fromkeys(
                str(a["leadId"])
                for a in self._paged_activities(
                    "/rest/v1/activities.json", params, since, until, "lead changes"
                )
            )
        )
        lo, hi = (None if since is None else as_utc(since)), as_utc(until)
        records = []
        for rec in self._leads_by_id(ids, fields):
            when = parse_api_datetime(rec.get("SystemModstamp"))
            # changed again after `until`: the next window reads it (its later activity is there)
            if when is not None and (when > hi or (lo is not None and when <= lo)):
                continue
            records.append(rec)
        if records:
            yield records

    def _leads_by_id(self, ids: list[str], fields: Sequence[str]) -> list[Record]:
        fmap: dict[str, str] = self.cfg.get("lead_fields") or {}
        wanted = {f: fmap[f] for f in fields if f in fmap}
        wanted.setdefault("SystemModstamp", "updatedAt")
        mk_fields = ",".join(["id", *dict.fromkeys(wanted.values())])
        out = []
        for chunk in chunks(ids, int(self.cfg.get("leads_per_call", 300))):
            body = self.client.call(
                "/rest/v1/leads.json",
                {"filterType": "id", "filterValues": ",".join(chunk), "fields": mk_fields},
                what="leads by id",
            )
            for lead in body.get("result") or []:
                rec: Record = {"Id": str(lead["id"])}
                for f, mk in wanted.items():
                    value = lead.get(mk)
                    rec[f] = marketo_datetime(value) if mk in ("createdAt", "updatedAt") else value
                out.append(rec)
        return out


def _hook_class() -> type:
    from airflow.sdk import BaseHook

    class MarketoHook(BaseHook):
        """Airflow hook giving a :class:`MarketoClient`: host = REST endpoint, login/password = client id/secret."""

        conn_name_attr = "marketo_conn_id"
        default_conn_name = "marketo_default"
        conn_type = "marketo"
        hook_name = "Marketo (salesops)"

        def __init__(
            self, marketo_conn_id: str = default_conn_name, session: requests.Session | None = None
        ) -> None:
            super().__init__()
            self.marketo_conn_id = marketo_conn_id
            self._session = session

        @cached_property
        def client(self) -> MarketoClient:
            conn = self.get_connection(self.marketo_conn_id)
            host = conn.host or ""
            if host and not host.startswith("http"):
                host = f"https://{host}"
            return MarketoClient(host, conn.login or "", conn.password or "", session=self._session)

        def get_conn(self) -> MarketoClient:
            return self.client

    return MarketoHook


def __getattr__(name: str) -> Any:
    if name == "MarketoHook":
        cls = _hook_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
