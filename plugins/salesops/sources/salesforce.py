"""Salesforce REST API source: incremental SOQL extracts, deletes, reads and sObject Collections writes.

Calls (API version from include/config/sources/salesforce.yaml):

* ``GET /services/data/vXX.X/sobjects/{obj}/describe`` once per object: fields the org lacks are
  dropped from the SOQL and reported (:attr:`SalesforceSource.dropped_fields`, one warning);
  objects listed as ``optional_objects`` (ForecastingQuota, FinanceBooking, LifecycleStageChange)
  that the org does not have are skipped with one log line.
* ``GET /services/data/vXX.X/query?q=SELECT ... FROM {obj} WHERE SystemModstamp > {since}
  AND SystemModstamp <= {until} ORDER BY SystemModstamp, Id``, then ``nextRecordsUrl`` until
  ``done``. Datetime literals are UTC ``YYYY-MM-DDThh:mm:ssZ``; both bounds are floored to the
  second, which can only re-read a record (the loader keeps the latest version), never skip one.
* ``GET /services/data/vXX.X/sobjects/{obj}/deleted/?start=&end=`` for deletes (Salesforce keeps
  the delete log about 15 days; a first load has nothing to delete).
* ``GET /services/data/vXX.X/composite/sobjects/{obj}?ids=&fields=`` (200 ids per call) for
  :meth:`~SalesforceSource.get_records`.
* ``PATCH /services/data/vXX.X/composite/sobjects`` with ``allOrNone: false`` in chunks of 200
  for :meth:`~SalesforceSource.update_records`: one :class:`UpdateResult` per record, lock and
  limit errors marked transient.
* Server time: the ``Date`` header of ``GET /services/data/vXX.X/limits``.

Authentication (Airflow connection, default id ``salesforce_default``), first match wins:

1. extras ``instance_url`` + ``access_token``: a bearer token you obtained elsewhere.
2. extras ``instance_url`` + ``consumer_key`` + ``consumer_secret`` and no login: OAuth 2.0
   client-credentials flow against ``{instance_url}/services/oauth2/token`` (a connected app
   with a run-as user).
3. login + password (+ extra ``security_token``) with ``consumer_key``/``consumer_secret``:
   OAuth username-password flow against ``https://{domain}.salesforce.com`` (``domain`` extra,
   ``login`` by default, ``test`` for sandboxes).
4. login + ``consumer_key`` + ``private_key`` (PEM text) or ``private_key_file_path`` extras: the
   OAuth 2.0 **JWT bearer** flow of a connected app with a certificate (no password stored). The
   same extras as Airflow's ``SalesforceHook``; simple-salesforce's ``SalesforceLogin`` signs the
   RS256 assertion (``iss`` consumer key, ``sub`` login, ``aud`` ``https://{domain}.salesforce.com``)
   and posts it to ``https://{domain}.salesforce.com/services/oauth2/token`` (``domain``: ``login``,
   ``test`` or a My Domain prefix).
5. login + password + ``security_token`` without a connected app: simple-salesforce's
   ``SalesforceLogin`` (SOAP login), which returns a session id.

Tokens are refreshed once on a 401 (flows 2-5; JWT signs a new assertion). Tokens, keys and
assertions never appear in logs or errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any

import requests

from salesops.sources.base import DeletedRecord, Page, Record, SourceError, UpdateResult
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

UPDATE_CHUNK = 200  # sObject Collections limit per request
GET_CHUNK = 200


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """include/config/sources/salesforce.yaml."""
    from salesops.config import load_yaml

    return load_yaml("sources/salesforce.yaml")


def soql_datetime(ts: datetime) -> str:
    """A SOQL datetime literal in UTC, floored to the second: ``2026-10-05T14:03:00Z``."""
    return as_utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def _floor_second(ts: datetime) -> datetime:
    return as_utc(ts).replace(microsecond=0)


class SalesforceClient(ApiClient):
    """REST client for one org: bearer auth, optional re-authentication, versioned paths.

    Args:
        instance_url: ``https://yourdomain.my.salesforce.com`` (may be filled by ``authenticate``).
        access_token: a bearer token, if already known.
        authenticate: callable returning ``(instance_url, access_token)``; called when there is no
            token yet and once after a 401.
        api_version: e.g. ``"62.0"``.
        **kwargs: passed to :class:`~salesops.sources.http.ApiClient` (session, sleep, ...).
    """

    def __init__(
        self,
        instance_url: str | None,
        *,
        access_token: str | None = None,
        authenticate: Callable[[], tuple[str, str]] | None = None,
        api_version: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not instance_url and authenticate is None:
            raise SourceError("Salesforce: no instance_url and no way to log in (see the connection docs)")
        super().__init__(instance_url or "https://login.salesforce.com", name="salesforce", **kwargs)
        self._token = access_token
        self._authenticate = authenticate
        self.api_version = str(api_version or settings()["api_version"])

    def _login(self) -> None:
        assert self._authenticate is not None
        instance_url, token = self._authenticate()
        self.base_url = instance_url.rstrip("/")
        self._token = token
        log.info("salesforce: authenticated against %s", self.base_url)

    def auth_headers(self) -> dict[str, str]:
        if self._token is None:
            if self._authenticate is None:
                raise SourceError("Salesforce: no access token and no credentials to get one")
            self._login()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh_auth(self) -> bool:
        if self._authenticate is None:
            return False
        self._login()
        return True

    def data_path(self, rel: str) -> str:
        """``/services/data/vXX.X/<rel>``."""
        return f"/services/data/v{self.api_version}/{rel.lstrip('/')}"


def _oauth_token(session: requests.Session, token_url: str, form: dict[str, str]) -> tuple[str, str]:
    """POST an OAuth token request; return (instance_url, access_token) without logging either."""
    client = ApiClient(token_url, session=session, name="salesforce-oauth", max_attempts=3)
    payload = decode_json(
        client.request("POST", token_url, data=form, authenticated=False, idempotent=True), "salesforce-oauth"
    )
    body = require_keys(payload, ["access_token", "instance_url"], "Salesforce OAuth token response")
    return body["instance_url"], body["access_token"]


def client_from_connection(
    login: str | None,
    password: str | None,
    extras: dict[str, Any],
    *,
    session: requests.Session | None = None,
) -> SalesforceClient:
    """Build a :class:`SalesforceClient` from an Airflow connection's fields (see module docs)."""
    session = session or requests.Session()
    extras = {k: v for k, v in extras.items() if v not in (None, "")}
    instance_url = extras.get("instance_url")
    version = extras.get("version") or extras.get("api_version")
    key, secret = extras.get("consumer_key"), extras.get("consumer_secret")
    common: dict[str, Any] = {"session": session, "api_version": version}
    if instance_url and extras.get("access_token"):
        return SalesforceClient(instance_url, access_token=extras["access_token"], **common)
    if instance_url and key and secret and not login:
        form = {"grant_type": "client_credentials", "client_id": key, "client_secret": secret}
        token_url = f"{instance_url.rstrip('/')}/services/oauth2/token"
        return SalesforceClient(
            instance_url, authenticate=lambda: _oauth_token(session, token_url, form), **common
        )
    private_key, key_file = extras.get("private_key"), extras.get("private_key_file_path")
    if login and key and (private_key or key_file):
        return SalesforceClient(
            instance_url,
            authenticate=_jwt_bearer(
                login, key, private_key, key_file, extras.get("domain", "login"), session
            ),
            **common,
        )
    if login and password:
        token = extras.get("security_token", "")
        domain = extras.get("domain", "login")
        if key and secret:
            form = {
                "grant_type": "password",
                "client_id": key,
                "client_secret": secret,
                "username": login,
                "password": f"{password}{token}",
            }
            token_url = f"https://{domain}.salesforce.com/services/oauth2/token"
            return SalesforceClient(
                instance_url, authenticate=lambda: _oauth_token(session, token_url, form), **common
            )

        def soap_login() -> tuple[str, str]:
            # simple-salesforce knows the SOAP login dance; imported only when this flow is used.
            from simple_salesforce import SalesforceLogin

            session_id, instance = SalesforceLogin(
                username=login, password=password, security_token=token, domain=domain, session=session
            )
            return f"https://{instance}", session_id

        return SalesforceClient(instance_url, authenticate=soap_login, **common)
    raise SourceError(
        "Salesforce connection: give extras instance_url+access_token, or instance_url+consumer_key+"
        "consumer_secret, or login+password(+security_token)"
    )


def _jwt_bearer(
    username: str,
    consumer_key: str,
    private_key: str | None,
    key_file: str | None,
    domain: str,
    session: requests.Session,
) -> Callable[[], tuple[str, str]]:
    """A login callable for the OAuth 2.0 JWT bearer flow (simple-salesforce signs and posts)."""

    def login() -> tuple[str, str]:
        from jwt import PyJWTError
        from simple_salesforce import SalesforceLogin
        from simple_salesforce.exceptions import SalesforceAuthenticationFailed

        try:
            # explicitly one of privatekey / privatekey_file: simple-salesforce picks the flow by
            # which arguments are not None
            session_id, instance = SalesforceLogin(
                username=username,
                consumer_key=consumer_key,
                privatekey=private_key if private_key else None,
                privatekey_file=None if private_key else key_file,
                domain=domain,
                session=session,
            )
        except SalesforceAuthenticationFailed as exc:
            # exc carries Salesforce's error code and description only, never the assertion
            raise SourceError(
                f"Salesforce JWT bearer login of {username} at https://{domain}.salesforce.com failed: "
                f"{exc.code}: {exc.auth_message} (check the connected app's certificate, its consumer key, "
                "and that the user is pre-authorized for the app)"
            ) from None
        except (OSError, ValueError, PyJWTError) as exc:  # unreadable key file, or not a PEM key
            raise SourceError(
                f"Salesforce JWT bearer login of {username}: cannot use the private key "
                f"({'private_key' if private_key else 'private_key_file_path ' + str(key_file)}): "
                f"{type(exc).__name__}"
            ) from None
        return f"https://{instance}", session_id

    return login


class SalesforceSource:
    """:class:`~salesops.sources.base.CrmSource` over the Salesforce REST API.

    Args:
        client: an authenticated :class:`SalesforceClient`.
        page_size: query batch size hint (200..2000).
    """

    name = "salesforce"

    def __init__(self, client: SalesforceClient, *, page_size: int | None = None) -> None:
        cfg = settings()
        self.client = client
        self.page_size = int(page_size or cfg.get("page_size", 2000))
        self.optional_objects = set(cfg.get("optional_objects", []))
        self.field_paths: dict[str, dict[str, str]] = cfg.get("field_paths", {}) or {}
        self.transient_errors = set(cfg.get("transient_errors", []))
        # Window upper bound this far behind the server clock: a transaction that commits a
        # record stamped in the window's last second lands before the window is read.
        self.settle = timedelta(seconds=float(cfg.get("settle_seconds", 60)))
        # Window lower bound this far before the watermark: the boundary is read again and the
        # loader keeps the latest version of a record read twice.
        self.overlap = timedelta(seconds=float(cfg.get("overlap_seconds", 60)))
        self.dropped_fields: dict[str, list[str]] = {}
        self.skipped_objects: set[str] = set()
        self._describe: dict[str, dict[str, Any] | None] = {}

    @property
    def target_id(self) -> str:
        """``salesforce:<instance url>``: which org a bulk-update plan is for."""
        return f"salesforce:{self.client.base_url.rstrip('/').lower()}"

    @classmethod
    def from_conn_id(cls, conn_id: str = "salesforce_default") -> SalesforceSource:
        """Build from an Airflow connection through :class:`SalesforceCrmHook`."""
        return cls(__getattr__("SalesforceCrmHook")(conn_id).get_conn())

    # -- metadata ---------------------------------------------------------------------------
    def describe(self, api_name: str) -> dict[str, Any] | None:
        """The object's describe result, or None if the org has no such object (cached)."""
        if api_name not in self._describe:
            try:
                payload = self.client.get_json(self.client.data_path(f"sobjects/{api_name}/describe"))
            except ApiError as exc:
                if exc.status == 404:
                    self._describe[api_name] = None
                    return None
                raise
            self._describe[api_name] = require_keys(payload, ["fields"], f"describe {api_name}")
        return self._describe[api_name]

    def _exists(self, api_name: str) -> bool:
        if self.describe(api_name) is not None:
            return True
        if api_name in self.optional_objects:
            if api_name not in self.skipped_objects:
                log.info("salesforce: the org has no %s object; skipping it (optional)", api_name)
                self.skipped_objects.add(api_name)
            return False
        raise SourceError(f"Salesforce org has no {api_name} object (describe returned 404)")

    def _select_list(self, api_name: str, fields: Sequence[str]) -> list[tuple[str, str]]:
        """(manifest field, SOQL expression) for the requested fields the org has."""
        desc = self.describe(api_name) or {"fields": []}
        names = {f["name"] for f in desc["fields"]}
        relationships = {f.get("relationshipName") for f in desc["fields"] if f.get("relationshipName")}
        paths = self.field_paths.get(api_name, {})
        selected: list[tuple[str, str]] = []
        dropped: list[str] = []
        for f in dict.fromkeys(["Id", *fields]):
            expr = paths.get(f, f)
            ok = expr.split(".")[0] in relationships if "." in expr else expr in names
            if ok:
                selected.append((f, expr))
            else:
                dropped.append(f)
        if dropped and self.dropped_fields.get(api_name) != dropped:
            self.dropped_fields[api_name] = dropped
            log.warning(
                "salesforce: %s lacks fields %s in this org; extracting without them", api_name, dropped
            )
        return selected

    # -- CrmSource --------------------------------------------------------------------------
    def server_time(self) -> datetime:
        response = self.client.request("GET", self.client.data_path("limits"))
        when = http_date(response)
        if when is None:
            raise SourceError("Salesforce /limits response has no usable Date header")
        return when - self.settle

    def soql(
        self,
        api_name: str,
        select: Sequence[tuple[str, str]],
        cursor: str,
        since: datetime | None,
        until: datetime,
    ) -> str:
        """The incremental SOQL for one window."""
        where = [f"{cursor} <= {soql_datetime(until)}"]
        if since is not None:
            where.insert(0, f"{cursor} > {soql_datetime(since)}")
        cols = ", ".join(expr for _, expr in select)
        order = f"{cursor}, Id" if cursor != "Id" else "Id"
        return f"SELECT {cols} FROM {api_name} WHERE {' AND '.join(where)} ORDER BY {order}"

    def read_changes(
        self, api_name: str, fields: Sequence[str], cursor: str, since: datetime | None, until: datetime
    ) -> Iterator[Page]:
        if not self._exists(api_name):
            return
        select = self._select_list(api_name, fields)
        if cursor not in {f for f, _ in select}:
            raise SourceError(f"Salesforce {api_name}: cursor field {cursor!r} does not exist in this org")
        if since is not None:
            since = since - self.overlap
        query = self.soql(api_name, select, cursor, since, until)
        log.info("salesforce: %s: %s", api_name, query)
        lo = None if since is None else _floor_second(since)
        hi = _floor_second(until)
        url: str | None = self.client.data_path("query")
        params: dict[str, str] | None = {"q": query}
        headers = {"Sforce-Query-Options": f"batchSize={self.page_size}"}
        page = 0
        paging = _PageCheck(api_name, cursor)
        while url:
            page += 1
            payload = self.client.get_json(url, params=params, headers=headers)
            body = require_keys(payload, ["records", "done"], f"Salesforce {api_name} query page {page}")
            records = [self._flatten(rec, select) for rec in body["records"]]
            check_records(records, [f for f, _ in select], obj=api_name, page=page)
            self._check_window(records, api_name, cursor, lo, hi, page)
            paging.check(records, page, body.get("totalSize"))
            if records:
                yield records
            if body["done"]:
                paging.finish(page)
                break
            url = body.get("nextRecordsUrl")
            if not url:
                raise SourceError(
                    f"Salesforce {api_name} query page {page}: done=false but no nextRecordsUrl"
                )
            params = None  # nextRecordsUrl carries the query locator

    @staticmethod
    def _flatten(rec: dict[str, Any], select: Sequence[tuple[str, str]]) -> Record:
        out: Record = {}
        for field, expr in select:
            if "." in expr:
                value: Any = rec
                for part in expr.split("."):
                    if not isinstance(value, dict):
                        value = None
                        break
                    value = value.get(part)
                # a null relationship comes back as null; a missing key must stay detectable
                out[field] = value if expr.split(".")[0] in rec else rec.get(field, _MISSING)
            else:
                out[field] = rec.get(field, _MISSING)
        return {k: v for k, v in out.items() if v is not _MISSING}

    @staticmethod
    def _check_window(
        records: Sequence[Record], api_name: str, cursor: str, lo: datetime | None, hi: datetime, page: int
    ) -> None:
        for rec in records:
            stamp = parse_api_datetime(rec.get(cursor))
            if stamp is None:
                continue  # the loader quarantines unparseable cursors with a reason
            if stamp > hi + _ONE_SECOND or (lo is not None and stamp <= lo):
                raise SourceError(
                    f"Salesforce {api_name} page {page}: record {rec.get('Id')!r} has {cursor}="
                    f"{rec.get(cursor)} outside the requested window ({lo}, {hi}]"
                )

    def read_deleted(self, api_name: str, since: datetime | None, until: datetime) -> list[DeletedRecord]:
        if since is None or not self._exists(api_name):
            return []  # a first load has no earlier rows to delete
        params = {
            "start": as_utc(since).isoformat(timespec="seconds"),
            "end": as_utc(until).isoformat(timespec="seconds"),
        }
        payload = self.client.get_json(self.client.data_path(f"sobjects/{api_name}/deleted/"), params=params)
        body = require_keys(payload, ["deletedRecords"], f"Salesforce {api_name} deleted")
        earliest = parse_api_datetime(body.get("earliestDateAvailable"))
        if earliest is not None and earliest > as_utc(since):
            log.warning(
                "salesforce: %s delete log starts at %s, after the watermark %s: some deletes may be "
                "missing; run a full refresh of this object",
                api_name,
                earliest,
                since,
            )
        out = []
        for i, row in enumerate(body["deletedRecords"]):
            when = parse_api_datetime(row.get("deletedDate"))
            if not row.get("id") or when is None:
                raise SourceError(
                    f"Salesforce {api_name} deleted record #{i}: need id and deletedDate, got {row}"
                )
            if as_utc(since) < when <= as_utc(until):
                out.append(DeletedRecord(row["id"], when))
        return out

    def get_records(self, api_name: str, ids: Sequence[str], fields: Sequence[str]) -> list[Record]:
        if not ids:
            return []
        select = self._select_list(api_name, fields)
        out: list[Record] = []
        for chunk in chunks(list(ids), GET_CHUNK):
            payload = self.client.get_json(
                self.client.data_path(f"composite/sobjects/{api_name}"),
                params={"ids": ",".join(chunk), "fields": ",".join(expr for _, expr in select)},
            )
            if not isinstance(payload, list):
                raise SourceError(
                    f"Salesforce {api_name} retrieve: expected a list, got {type(payload).__name__}"
                )
            out.extend(self._flatten(rec, select) for rec in payload if rec is not None)
        return out

    def update_records(self, api_name: str, updates: Sequence[Record]) -> list[UpdateResult]:
        for i, upd in enumerate(updates):
            if not upd.get("Id"):
                raise ValueError(f"Salesforce {api_name} update #{i} has no 'Id': {upd}")
            if len(upd) < 2:
                raise ValueError(f"Salesforce {api_name} update #{i} ({upd['Id']}) sets no field")
        results: list[UpdateResult] = []
        for chunk in chunks(list(updates), UPDATE_CHUNK):
            body = {
                "allOrNone": False,
                "records": [
                    {
                        "attributes": {"type": api_name},
                        "id": u["Id"],
                        **{k: v for k, v in u.items() if k != "Id"},
                    }
                    for u in chunk
                ],
            }
            try:
                response = self.client.request(
                    "PATCH", self.client.data_path("composite/sobjects"), json=body
                )
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise
                # The whole chunk failed (limits, outage, malformed request): one result per record.
                results.extend(
                    UpdateResult(u["Id"], False, [str(exc)], transient=exc.transient) for u in chunk
                )
                continue
            payload = decode_json(response, "salesforce")
            if not isinstance(payload, list) or len(payload) != len(chunk):
                raise SourceError(
                    f"Salesforce {api_name} update: sent {len(chunk)} records, got "
                    f"{len(payload) if isinstance(payload, list) else type(payload).__name__} results"
                )
            for upd, res in zip(chunk, payload, strict=True):
                errors = res.get("errors") or []
                codes = [e.get("statusCode", "") for e in errors]
                results.append(
                    UpdateResult(
                        id=upd["Id"],
                        success=bool(res.get("success")),
                        errors=[
                            f"{e.get('statusCode')}: {e.get('message')}"
                            + (f" (fields {e['fields']})" if e.get("fields") else "")
                            for e in errors
                        ],
                        transient=bool(errors) and all(c in self.transient_errors for c in codes),
                    )
                )
        return results


class _PageCheck:
    """Did the query return each record once, in the requested order, as many as it announced?

    Issue 11 (5): a page that repeated the previous one lost 5 records while the run succeeded.
    Any violation raises :class:`SourceError` naming the object, page and record, so the task
    fails instead of loading a partial window (and the watermark does not move).
    """

    def __init__(self, api_name: str, cursor: str) -> None:
        self.api_name, self.cursor = api_name, cursor
        self.seen: dict[str, int] = {}
        self.last: tuple[datetime, str] | None = None
        self.total: int | None = None

    def check(self, records: Sequence[Record], page: int, total_size: Any) -> None:
        if self.total is None and total_size is not None:
            self.total = int(total_size)
        for rec in records:
            rid = str(rec.get("Id"))
            if rid in self.seen:
                raise SourceError(
                    f"Salesforce {self.api_name} query page {page}: record {rid!r} was already returned on "
                    f"page {self.seen[rid]}; the result is not a consistent snapshot (nothing loaded)"
                )
            self.seen[rid] = page
            stamp = parse_api_datetime(rec.get(self.cursor)) if self.cursor != "Id" else None
            key = (stamp or datetime.min.replace(tzinfo=UTC), rid)
            if self.last is not None and key < self.last:
                raise SourceError(
                    f"Salesforce {self.api_name} query page {page}: record {rid!r} ({self.cursor}="
                    f"{rec.get(self.cursor)}) comes after {self.last[1]!r} ({self.last[0]}): not in the requested "
                    f"order {self.cursor}, Id (nothing loaded)"
                )
            self.last = key

    def finish(self, pages: int) -> None:
        if self.total is not None and len(self.seen) != self.total:
            raise SourceError(
                f"Salesforce {self.api_name} query: totalSize said {self.total} records, {pages} pages returned "
                f"{len(self.seen)} distinct records (nothing loaded)"
            )


_MISSING = object()
_ONE_SECOND = timedelta(seconds=1)


def _hook_class() -> type:
    """Define the Airflow hook on first use, so this module imports without Airflow."""
    from airflow.sdk import BaseHook

    class SalesforceCrmHook(BaseHook):
        """Airflow hook giving an authenticated :class:`SalesforceClient` (REST, no SOAP beyond login).

        Connection fields: see the module docstring. The client is created on first use, not at
        import or construction time.
        """

        conn_name_attr = "salesforce_conn_id"
        default_conn_name = "salesforce_default"
        conn_type = "salesforce"
        hook_name = "Salesforce (salesops REST)"

        def __init__(self, salesforce_conn_id: str = default_conn_name, session: Any = None) -> None:
            super().__init__()
            self.salesforce_conn_id = salesforce_conn_id
            self._session = session

        @cached_property
        def client(self) -> SalesforceClient:
            conn = self.get_connection(self.salesforce_conn_id)
            self.log.info("Building Salesforce client from connection %s", self.salesforce_conn_id)
            return client_from_connection(conn.login, conn.password, conn.extra_dejson, session=self._session)

        def get_conn(self) -> SalesforceClient:
            return self.client

    return SalesforceCrmHook


def __getattr__(name: str) -> Any:
    if name == "SalesforceCrmHook":
        cls = _hook_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
