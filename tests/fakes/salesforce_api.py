"""A stateful fake Salesforce org on 127.0.0.1 (pytest-httpserver), for connector tests.

Unlike the recorded JSON in ``tests/fixtures/salesforce``, this fake *keeps records* and answers
from them, so tests can assert what the connector did against the org's own state: which
records exist, which were deleted (and when), how many API calls were made, which Bulk jobs
were created, aborted or left running.

What it serves (``/services/data/vXX.X`` prefix, any version):

* ``POST /services/oauth2/token``: OAuth username-password, client-credentials and JWT bearer
  (``urn:ietf:params:oauth:grant-type:jwt-bearer``: the RS256 assertion is verified against
  :attr:`FakeSalesforce.jwt_public_key`, ``iss`` = consumer key, ``sub`` = username, ``aud`` = the
  login host, ``exp`` in the future) flows; the returned ``instance_url`` is the fake itself (or
  :attr:`FakeSalesforce.public_url`). :attr:`FakeSalesforce.logins` records each login
  (grant type and the ``Host`` it was sent to, so sandbox / My Domain routing can be asserted).
* ``GET limits``: ``DailyApiRequests`` with ``Max``/``Remaining``; every data call carries a
  ``Sforce-Limit-Info: api-usage=N/M`` header and a ``Date`` header from the fake's clock.
* ``GET sobjects/{obj}/describe``: fields with ``type``, ``custom``, ``calculated`` (formula).
* ``GET query`` / ``queryAll`` with ``q=``: a small SOQL subset (``SELECT f, g FROM Obj [WHERE a op
  literal AND ...] [ORDER BY ...] [LIMIT n]`` and ``SELECT COUNT() ...``); pages of
  ``Sforce-Query-Options: batchSize`` (200..2000, default 2000) with ``nextRecordsUrl``.
  ``query`` skips deleted rows, ``queryAll`` returns them with ``IsDeleted = true``.
* ``GET sobjects/{obj}/deleted/?start=&end=``: the delete log of the last 15 days
  (``earliestDateAvailable``); a start more than 30 days back is ``INVALID_REPLICATION_DATE``.
* ``GET``/``PATCH composite/sobjects``: retrieve by ids, sObject Collections updates.
* Bulk API 2.0 query jobs: ``POST jobs/query`` (``query`` / ``queryAll``), ``GET jobs/query/{id}``
  (``UploadComplete`` -> ``InProgress`` -> ``JobComplete`` at poll :attr:`poll_steps`, or
  ``Failed``), ``GET jobs/query/{id}/results?locator=&maxRecords=`` (CSV, ``Sforce-Locator``,
  ``Sforce-NumberOfRecords``), ``PATCH`` ``{"state": "Aborted"}``, ``DELETE``.

* Bulk API 2.0 ingest jobs (update): ``POST jobs/ingest`` (state ``Open``), ``PUT
  jobs/ingest/{id}/batches`` (CSV; ``#N/A`` sets a field to null, an empty value leaves it),
  ``PATCH`` ``{"state": "UploadComplete"}`` or ``Aborted``, ``GET jobs/ingest/{id}`` (processed at
  poll :attr:`poll_steps`), ``GET .../successfulResults/`` (``sf__Id``, ``sf__Created``),
  ``.../failedResults/`` (``sf__Id``, ``sf__Error``), ``.../unprocessedrecords/`` (the original
  rows), ``DELETE``. Lock contention is modelled as Salesforce has it: the upload is split into
  chunks of :attr:`ingest_chunk` rows processed in parallel; a row whose parent (``AccountId`` /
  ``OpportunityId``) is locked by an earlier chunk fails ``UNABLE_TO_LOCK_ROW``.
  :attr:`record_writes` counts writes per record id (Collections and ingest alike).

Faults (each consumed when it fires): :meth:`fail_next` (any status and body on a path pattern,
e.g. 503 or ``QUERY_TIMEOUT``), :meth:`delay_next` (a slow answer, for client timeouts),
:meth:`fail_next_job` (a Bulk job ends ``Failed``), :meth:`repeat_next_page` (a REST page is
served twice). Boundary timestamps are data, not faults: :meth:`insert` takes explicit stamps.

Use it as a context manager or through the ``fake_sf`` fixture (tests/fakes/conftest helpers).
"""

from __future__ import annotations

import base64
import csv
import email.utils
import io
import itertools
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

DELETE_LOG_DAYS = 15  # Salesforce keeps deleted records (recycle bin, getDeleted) this long
REPLICATION_LIMIT_DAYS = 30  # getDeleted refuses a start further back than this
MAX_BATCH = 2000
MIN_BATCH = 200

_SELECT = re.compile(
    r"^\s*SELECT\s+(?P<cols>.+?)\s+FROM\s+(?P<obj>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COND = re.compile(r"^\s*(?P<field>[\w.]+)\s*(?P<op><=|>=|!=|=|<|>)\s*(?P<lit>.+?)\s*$")
_DATETIME_LIT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)$")
_DATE_LIT = re.compile(r"^\d{4}-\d\d-\d\d$")


def sf_datetime(ts: datetime) -> str:
    """Salesforce's JSON form: ``2026-10-05T14:03:00.000+0000``."""
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+0000"


def parse_sf_datetime(text: str) -> datetime:
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", t):
        t = f"{t[:-2]}:{t[-2:]}"
    return datetime.fromisoformat(t).astimezone(UTC)


def _error(status: int, code: str, message: str) -> Response:
    return Response(
        json.dumps([{"errorCode": code, "message": message}]), status=status, content_type="application/json"
    )


@dataclass
class FieldDef:
    name: str
    type: str = "string"
    custom: bool = False
    calculated: bool = False  # a formula field: its value changes without SystemModstamp moving
    relationship: str | None = None


@dataclass
class SObject:
    name: str
    fields: dict[str, FieldDef]
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (id, deleted_at) of deletes still in the 15-day log
    delete_log: list[tuple[str, datetime]] = field(default_factory=list)
    id_prefix: str = "a00"
    next_id: int = 1


@dataclass
class BulkJob:
    id: str
    operation: str
    object: str
    query: str
    rows: list[dict[str, Any]]
    columns: list[str]
    created: datetime
    state: str = "UploadComplete"
    polls: int = 0
    fail_with: str | None = None
    results_served: list[str | None] = field(default_factory=list)  # locators asked for


@dataclass
class IngestJob:
    id: str
    object: str
    operation: str
    created: datetime
    state: str = "Open"
    polls: int = 0
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    successful: list[tuple[str, list[str]]] = field(default_factory=list)  # (id, row)
    failed: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (id, error, row)
    unprocessed: list[list[str]] = field(default_factory=list)
    error_message: str | None = None
    stop_after: int | None = None  # fail_next_ingest_job: rows processed before the job fails


PARENT_FIELDS = {"Opportunity": "AccountId", "Contact": "AccountId", "OpportunityLineItem": "OpportunityId"}


@dataclass
class Fault:
    pattern: re.Pattern[str]
    method: str | None
    status: int = 500
    body: Any = None
    delay: float = 0.0
    times: int = 1
    skip: int = 0  # let this many matching calls through first


class FakeSalesforce:
    """One fake org. Records are plain dicts of JSON values keyed by field name.

    Args:
        api_max: the org's ``DailyApiRequests`` allowance.
        api_used: calls already used today when the test starts.
        poll_steps: the poll that sees a Bulk job finished (earlier polls say ``InProgress``).
        bulk_page: records per Bulk result page when the client sends no ``maxRecords``.
        clock: the org's clock (``Date`` header, new SystemModstamps); advance it with :meth:`tick`.
    """

    def __init__(
        self,
        *,
        api_max: int = 100_000,
        api_used: int = 0,
        poll_steps: int = 1,
        bulk_page: int = 10_000,
        clock: datetime | None = None,
        username: str = "integration.user@example.test",
        password: str = "pw-secret",
        client_id: str = "ck-fake",
        client_secret: str = "cs-fake",
    ) -> None:
        self.objects: dict[str, SObject] = {}
        self.api_max = api_max
        self.api_used = api_used
        self.poll_steps = poll_steps
        self.bulk_page = bulk_page
        self.clock = clock or datetime(2026, 11, 2, 6, 0, 0, tzinfo=UTC)
        self.creds = {"username": username, "password": password, "client_id": client_id}
        self.client_secret = client_secret
        # JWT bearer flow: the connected app's certificate (PEM public key); None = flow disabled
        self.jwt_public_key: bytes | str | None = None
        # the instance_url a login answers (a public My Domain URL a test routes to the fake)
        self.public_url: str | None = None
        self.tokens: set[str] = set()
        self.logins: list[dict[str, str]] = []
        self.calls: list[tuple[str, str]] = []  # (method, path) of every data API call
        self.jobs: dict[str, BulkJob] = {}
        self.jobs_created: list[tuple[str, str]] = []  # (operation, SOQL) of every Bulk query job
        self.faults: list[Fault] = []
        self.ingest_jobs: dict[str, IngestJob] = {}
        self.ingest_created: list[str] = []  # ids of every ingest job created
        self.ingest_uploads: list[tuple[str, list[str], list[list[str]]]] = []  # (job id, header, rows)
        self.ingest_chunk = 10_000  # rows per parallel chunk (Salesforce: 10,000 per internal batch)
        self.record_writes: dict[str, int] = {}  # record id -> writes (Collections and ingest)
        self._fail_ingest: list[tuple[str, int]] = []
        self._reject_rows: dict[str, str] = {}
        self._fail_jobs: list[str] = []
        self._repeat_pages = 0
        self._cursors: dict[str, tuple[list[dict[str, Any]], list[str], str]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.server: HTTPServer | None = None
        # Query locators and Bulk jobs keep a snapshot of the matching rows (copies, as an org's
        # would); the benchmark turns copying off to keep a million records in memory once.
        self.copy_snapshots = True

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeSalesforce:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)
        self.server.start()
        # The HTTP server writes the Date header itself; make it the org's clock (server_time()).
        wsgi = self.server.server
        assert wsgi is not None
        fake = self

        class _Handler(wsgi.RequestHandlerClass):  # type: ignore[name-defined, misc]
            def date_time_string(self, timestamp: float | None = None) -> str:
                return email.utils.format_datetime(fake.clock.astimezone(UTC), usegmt=True)

        wsgi.RequestHandlerClass = _Handler
        return self

    def stop(self) -> None:
        if self.server is not None and self.server.is_running():
            self.server.clear()
            self.server.stop()

    def __enter__(self) -> FakeSalesforce:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self.server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self.server.port}"

    def issue_token(self) -> str:
        """A valid bearer token (what a test passes as ``access_token``)."""
        token = f"00DFAKE!{next(self._ids):06d}"
        self.tokens.add(token)
        return token

    def revoke_tokens(self) -> None:
        """Expire every session (the next data call answers 401 INVALID_SESSION_ID)."""
        self.tokens.clear()

    # -- state: schema and records ---------------------------------------------------------
    def add_object(
        self,
        name: str,
        fields: dict[str, str] | Iterable[FieldDef],
        *,
        id_prefix: str = "a00",
        formula: Iterable[str] = (),
    ) -> SObject:
        """Declare an object. ``fields`` maps name -> type (or FieldDefs); Id, IsDeleted and
        SystemModstamp are always there. Names ending in ``__c`` are custom; ``formula`` lists
        calculated fields."""
        defs: dict[str, FieldDef] = {
            "Id": FieldDef("Id", "id"),
            "IsDeleted": FieldDef("IsDeleted", "boolean"),
            "SystemModstamp": FieldDef("SystemModstamp", "datetime"),
        }
        formula = set(formula)
        items = fields.items() if isinstance(fields, dict) else ((f.name, f) for f in fields)
        for fname, spec in items:
            if isinstance(spec, FieldDef):
                defs[fname] = spec
            else:
                rel = fname.split(".")[0] if "." in fname else None
                defs[fname] = FieldDef(
                    fname, spec, custom=fname.endswith("__c"), calculated=fname in formula, relationship=rel
                )
        obj = SObject(name, defs, id_prefix=id_prefix)
        self.objects[name] = obj
        return obj

    def add_field(self, obj: str, name: str, type_: str = "string", *, formula: bool = False) -> None:
        """A field added in the org after the connector first ran (existing records get null)."""
        self.objects[obj].fields[name] = FieldDef(
            name, type_, custom=name.endswith("__c"), calculated=formula
        )
        for rec in self.objects[obj].records.values():
            rec.setdefault(name, None)

    def new_id(self, obj: str) -> str:
        o = self.objects[obj]
        rid = f"{o.id_prefix}FK{o.next_id:010d}AAA"[:18]
        o.next_id += 1
        return rid

    def insert(
        self, obj: str, records: Iterable[dict[str, Any]], *, stamp: datetime | None = None
    ) -> list[str]:
        """Create records (ids assigned unless given); SystemModstamp = ``stamp`` or the record's
        own value or the clock."""
        o = self.objects[obj]
        ids = []
        with self._lock:
            for rec in records:
                row = {f: None for f in o.fields}
                row.update(rec)
                row["Id"] = row.get("Id") or self.new_id(obj)
                row["IsDeleted"] = bool(row.get("IsDeleted") or False)
                when = stamp or (
                    parse_sf_datetime(rec["SystemModstamp"]) if rec.get("SystemModstamp") else self.clock
                )
                row["SystemModstamp"] = sf_datetime(when)
                unknown = set(row) - set(o.fields)
                if unknown:
                    raise ValueError(f"{obj} has no fields {sorted(unknown)}")
                o.records[row["Id"]] = row
                ids.append(row["Id"])
        return ids

    def update(self, obj: str, rid: str, *, stamp: datetime | None = None, **values: Any) -> None:
        """Change fields and move SystemModstamp (as any save does)."""
        with self._lock:
            rec = self.objects[obj].records[rid]
            self.record_writes[rid] = self.record_writes.get(rid, 0) + 1
            rec.update(values)
            rec["SystemModstamp"] = sf_datetime(stamp or self.clock)

    def set_formula(self, obj: str, rid: str, **values: Any) -> None:
        """A formula's inputs changed elsewhere: the value moves, SystemModstamp does not."""
        with self._lock:
            self.objects[obj].records[rid].update(values)

    def delete(self, obj: str, rid: str, *, when: datetime | None = None) -> None:
        """Soft-delete (recycle bin): IsDeleted = true, SystemModstamp moves, getDeleted logs it."""
        when = when or self.clock
        with self._lock:
            o = self.objects[obj]
            o.records[rid]["IsDeleted"] = True
            o.records[rid]["SystemModstamp"] = sf_datetime(when)
            o.delete_log.append((rid, when))

    def tick(self, delta: timedelta = timedelta(seconds=1)) -> datetime:
        """Advance the clock; deleted records older than 15 days are purged (gone for good,
        neither in ``queryAll`` nor in ``getDeleted``)."""
        with self._lock:
            self.clock += delta
            horizon = self.clock - timedelta(days=DELETE_LOG_DAYS)
            for o in self.objects.values():
                old = {rid for rid, when in o.delete_log if when < horizon}
                o.delete_log = [(rid, when) for rid, when in o.delete_log if when >= horizon]
                for rid in old:
                    o.records.pop(rid, None)
        return self.clock

    def live(self, obj: str) -> dict[str, dict[str, Any]]:
        """Records not deleted (what a correct staging table holds)."""
        return {k: v for k, v in self.objects[obj].records.items() if not v["IsDeleted"]}

    # -- faults ----------------------------------------------------------------------------
    def fail_next(
        self,
        path_pattern: str,
        status: int = 503,
        body: Any = None,
        *,
        times: int = 1,
        method: str | None = None,
        skip: int = 0,
    ) -> None:
        """After ``skip`` matching calls, the next ``times`` calls whose path matches answer
        ``status`` with ``body``."""
        self.faults.append(Fault(re.compile(path_pattern), method, status, body, times=times, skip=skip))

    def query_timeout_next(self, *, times: int = 1) -> None:
        """The next query call fails as Salesforce does when a SOQL query runs too long."""
        self.fail_next(
            r"/query(All)?$",
            400,
            [{"errorCode": "QUERY_TIMEOUT", "message": "Your query request was running for too long."}],
            times=times,
        )

    def delay_next(self, path_pattern: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` matching calls answer only after ``seconds`` (client read timeouts)."""
        self.faults.append(Fault(re.compile(path_pattern), None, 0, None, delay=seconds, times=times))

    def fail_next_job(self, message: str = "InternalServerError: the query job failed") -> None:
        """The next Bulk query job created ends in state ``Failed`` with this errorMessage."""
        self._fail_jobs.append(message)

    def fail_next_ingest_job(self, message: str, *, after: int = 0) -> None:
        """The next ingest job processes ``after`` rows, then ends ``Failed`` with ``message``."""
        self._fail_ingest.append((message, after))

    def reject_ingest_row(self, rid: str, error: str) -> None:
        """Ingest rows for ``rid`` fail with ``error`` (``CODE:message:fields``), e.g. a validation rule."""
        self._reject_rows[rid] = error

    def repeat_next_page(self) -> None:
        """The next REST queryMore page is served with the previous page's records."""
        self._repeat_pages += 1

    # -- HTTP -------------------------------------------------------------------------------
    def _handle(self, request: Request) -> Response:
        path = request.path
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path) and fault.method in (None, request.method):
                    if fault.skip:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    if fault.delay:
                        delay = fault.delay
                        break
                    if path.startswith("/services/data/"):
                        self._count(request)
                    body = fault.body if fault.body is not None else [{"errorCode": "SERVER_UNAVAILABLE"}]
                    return self._with_headers(
                        Response(json.dumps(body), status=fault.status, content_type="application/json")
                    )
            else:
                delay = 0.0
        counted = False
        if delay:
            # a slow call is counted when it arrives: the client gives up on it before it answers
            if path.startswith("/services/data/"):
                with self._lock:
                    self._count(request)
                counted = True
            time.sleep(delay)
        if path == "/services/oauth2/token" and request.method == "POST":
            return self._token(request)
        m = re.match(r"^/services/data/v(?P<ver>\d+\.\d)/(?P<rest>.*)$", path)
        if not m:
            return _error(404, "NOT_FOUND", f"no such resource {path}")
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self._lock:
            if not counted:
                self._count(request)
            response = self._route(request, m.group("ver"), m.group("rest").rstrip("/"))
            return self._with_headers(response)

    def _count(self, request: Request) -> None:
        self.api_used += 1
        self.calls.append((request.method, request.path))

    def _with_headers(self, response: Response) -> Response:
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_used}/{self.api_max}"
        return response

    def _jwt_login(self, request: Request) -> str | None:
        """Verify a JWT bearer assertion as Salesforce does; None if valid, else the error text."""
        import jwt  # PyJWT (a simple-salesforce dependency)

        if self.jwt_public_key is None:
            return "the connected app has no certificate (JWT bearer flow not enabled)"
        host = request.headers.get("Host", "")
        try:
            claims = jwt.decode(
                request.form.get("assertion", ""),
                self.jwt_public_key,
                algorithms=["RS256"],
                audience=f"https://{host}",
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.PyJWTError as exc:
            return f"invalid assertion: {exc}"
        if claims["iss"] != self.creds["client_id"]:
            return "client identifier invalid"
        if claims["sub"] != self.creds["username"]:
            return "user hasn't approved this consumer"
        return None

    def _token(self, request: Request) -> Response:
        form = request.form
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            problem = self._jwt_login(request)
            if problem is not None:
                return Response(
                    json.dumps({"error": "invalid_grant", "error_description": problem}),
                    400,
                    content_type="application/json",
                )
            return self._grant("jwt-bearer", request)
        ok = (
            form.get("client_id") == self.creds["client_id"]
            and form.get("client_secret") == self.client_secret
        )
        if grant == "password":
            ok = (
                ok
                and form.get("username") == self.creds["username"]
                and form.get("password") == self.creds["password"]
            )
        elif grant != "client_credentials":
            return Response(
                json.dumps({"error": "unsupported_grant_type"}), 400, content_type="application/json"
            )
        if not ok:
            return Response(
                json.dumps({"error": "invalid_grant", "error_description": "authentication failure"}),
                400,
                content_type="application/json",
            )
        return self._grant(grant, request)

    def _grant(self, grant: str, request: Request) -> Response:
        self.logins.append({"grant_type": grant, "host": request.headers.get("Host", "")})
        body = {
            "access_token": self.issue_token(),
            "instance_url": self.public_url or self.url,
            "id": f"{self.url}/id/00DFAKE/005FAKE",
            "token_type": "Bearer",
            "issued_at": str(int(self.clock.timestamp() * 1000)),
        }
        return Response(json.dumps(body), 200, content_type="application/json")

    def _route(self, request: Request, ver: str, rest: str) -> Response:  # noqa: C901 - a router
        method = request.method
        if rest == "limits" and method == "GET":
            return _json(
                {
                    "DailyApiRequests": {
                        "Max": self.api_max,
                        "Remaining": max(0, self.api_max - self.api_used),
                    },
                    "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000 - len(self.jobs)},
                }
            )
        if m := re.fullmatch(r"sobjects/(\w+)/describe", rest):
            return self._describe(m.group(1))
        if m := re.fullmatch(r"sobjects/(\w+)/deleted", rest):
            return self._deleted(m.group(1), request.args)
        if rest in ("query", "queryAll") and method == "GET":
            return self._query(request, ver, rest == "queryAll")
        if m := re.fullmatch(r"query/([\w-]+)", rest):
            return self._query_more(request, ver, m.group(1))
        if m := re.fullmatch(r"composite/sobjects/(\w+)", rest):
            return self._retrieve(m.group(1), request.args)
        if rest == "composite/sobjects" and method == "PATCH":
            return self._collections_update(request.get_json())
        if rest == "jobs/ingest" and method == "POST":
            return self._create_ingest(request.get_json())
        if m := re.fullmatch(r"jobs/ingest/(\w+)/batches", rest):
            return self._ingest_upload(m.group(1), method, request)
        if m := re.fullmatch(r"jobs/ingest/(\w+)/(successfulResults|failedResults|unprocessedrecords)", rest):
            return self._ingest_results(m.group(1), m.group(2))
        if m := re.fullmatch(r"jobs/ingest/(\w+)", rest):
            return self._ingest_job(m.group(1), method, request)
        if rest == "jobs/query" and method == "POST":
            return self._create_job(request.get_json())
        if m := re.fullmatch(r"jobs/query/(\w+)", rest):
            return self._job(m.group(1), method, request)
        if m := re.fullmatch(r"jobs/query/(\w+)/results", rest):
            return self._results(m.group(1), request.args)
        return _error(404, "NOT_FOUND", f"the fake has no {method} {rest}")

    # -- metadata ---------------------------------------------------------------------------
    def _describe(self, name: str) -> Response:
        o = self.objects.get(name)
        if o is None:
            return _error(404, "NOT_FOUND", f"The requested resource does not exist: {name}")
        fields = []
        for f in o.fields.values():
            if "." in f.name:
                continue  # relationship paths are not fields; their lookup is
            fields.append(
                {
                    "name": f.name,
                    "type": f.type,
                    "custom": f.custom,
                    "calculated": f.calculated,
                    "relationshipName": f.relationship,
                }
            )
        rels = {f.name.split(".")[0] for f in o.fields.values() if "." in f.name}
        for rel in sorted(rels):
            fields.append(
                {
                    "name": f"{rel}Id",
                    "type": "reference",
                    "custom": False,
                    "calculated": False,
                    "relationshipName": rel,
                }
            )
        return _json({"name": name, "queryable": True, "fields": fields})

    # -- SOQL -------------------------------------------------------------------------------
    def parse_soql(
        self, soql: str
    ) -> tuple[SObject, list[str], list[tuple[str, str, Any]], int | None, bool]:
        m = _SELECT.match(soql)
        if not m:
            raise _SoqlError("MALFORMED_QUERY", f"cannot parse: {soql[:200]}")
        obj = self.objects.get(m.group("obj"))
        if obj is None:
            raise _SoqlError("INVALID_TYPE", f"sObject type '{m.group('obj')}' is not supported.")
        cols = [c.strip() for c in m.group("cols").split(",")]
        count = cols == ["COUNT()"]
        if not count:
            for c in cols:
                if c not in obj.fields:
                    raise _SoqlError("INVALID_FIELD", f"No such column '{c}' on entity '{obj.name}'.")
        conds = []
        if m.group("where"):
            for part in re.split(r"\s+AND\s+", m.group("where"), flags=re.IGNORECASE):
                c = _COND.match(part)
                if not c or c.group("field") not in obj.fields:
                    raise _SoqlError("MALFORMED_QUERY", f"unsupported condition {part!r}")
                conds.append((c.group("field"), c.group("op"), _literal(c.group("lit"))))
        limit = int(m.group("limit")) if m.group("limit") else None
        return obj, cols, conds, limit, count

    def select(
        self, soql: str, *, include_deleted: bool, order: bool = True
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """Rows matching a SOQL query: (rows, columns, is_count)."""
        obj, cols, conds, limit, count = self.parse_soql(soql)
        out = []
        for rec in obj.records.values():
            if rec["IsDeleted"] and not include_deleted:
                continue
            if all(_compare(rec.get(f), op, lit) for f, op, lit in conds):
                out.append(rec)
        if order:
            out.sort(key=lambda r: (r["SystemModstamp"] and parse_sf_datetime(r["SystemModstamp"]), r["Id"]))
        if limit is not None:
            out = out[:limit]
        return out, cols, count

    def _query(self, request: Request, ver: str, include_deleted: bool) -> Response:
        soql = request.args.get("q", "")
        try:
            rows, cols, count = self.select(soql, include_deleted=include_deleted)
        except _SoqlError as exc:
            return _error(400, exc.code, str(exc))
        if count:
            return _json({"totalSize": len(rows), "done": True, "records": []})
        batch = _batch_size(request.headers.get("Sforce-Query-Options", ""))
        cursor = f"01gFAKE{next(self._ids):08d}"
        obj = self.parse_soql(soql)[0].name
        self._cursors[cursor] = (self._snapshot(rows), cols, obj)  # a snapshot, like a query locator
        return self._page(ver, cursor, 0, batch)

    def _query_more(self, request: Request, ver: str, locator: str) -> Response:
        cursor, _, offset = locator.rpartition("-")
        if cursor not in self._cursors or not offset.isdigit():
            return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        batch = _batch_size(request.headers.get("Sforce-Query-Options", ""))
        start = int(offset)
        if self._repeat_pages:
            self._repeat_pages -= 1
            start = max(0, start - batch)  # the previous page again, under the new locator
        return self._page(ver, cursor, start, batch, locator_offset=int(offset))

    def _page(
        self, ver: str, cursor: str, start: int, batch: int, *, locator_offset: int | None = None
    ) -> Response:
        rows, cols, obj = self._cursors[cursor]
        chunk = rows[start : start + batch]
        end = (locator_offset if locator_offset is not None else start) + batch
        done = end >= len(rows)
        body: dict[str, Any] = {
            "totalSize": len(rows),
            "done": done,
            "records": [self._json_record(obj, r, cols) for r in chunk],
        }
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v{ver}/query/{cursor}-{end}"
        return _json(body)

    @staticmethod
    def _json_record(obj: str, rec: dict[str, Any], cols: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {"type": obj, "url": f"/services/data/v62.0/sobjects/{obj}/{rec['Id']}"}
        }
        for c in cols:
            if "." in c:
                rel, sub = c.split(".", 1)
                out[rel] = None if rec.get(c) is None else {"attributes": {"type": rel}, sub: rec.get(c)}
            else:
                out[c] = rec.get(c)
        return out

    def _deleted(self, name: str, args: Any) -> Response:
        o = self.objects.get(name)
        if o is None:
            return _error(404, "NOT_FOUND", name)
        try:
            start, end = parse_sf_datetime(args["start"]), parse_sf_datetime(args["end"])
        except (KeyError, ValueError):
            return _error(400, "MALFORMED_QUERY", "start and end are required ISO date-times")
        if start < self.clock - timedelta(days=REPLICATION_LIMIT_DAYS):
            return _error(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago")
        earliest = self.clock - timedelta(days=DELETE_LOG_DAYS)
        rows = [{"id": rid, "deletedDate": sf_datetime(w)} for rid, w in o.delete_log if start <= w <= end]
        return _json(
            {
                "deletedRecords": rows,
                "earliestDateAvailable": sf_datetime(earliest),
                "latestDateCovered": sf_datetime(min(end, self.clock)),
            }
        )

    def _retrieve(self, name: str, args: Any) -> Response:
        o = self.objects.get(name)
        if o is None:
            return _error(404, "NOT_FOUND", name)
        ids = [i for i in args.get("ids", "").split(",") if i]
        cols = [c for c in args.get("fields", "").split(",") if c]
        out = []
        for rid in ids:
            rec = o.records.get(rid)
            out.append(None if rec is None or rec["IsDeleted"] else self._json_record(name, rec, cols))
        return _json(out)

    def _collections_update(self, body: dict[str, Any]) -> Response:
        results = []
        for item in body.get("records", []):
            obj = item.get("attributes", {}).get("type")
            rid = item.get("id")
            o = self.objects.get(obj or "")
            rec = o.records.get(rid) if o else None
            if rec is None or rec["IsDeleted"]:
                results.append(
                    {
                        "id": rid,
                        "success": False,
                        "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "deleted"}],
                    }
                )
                continue
            values = {k: v for k, v in item.items() if k not in ("attributes", "id")}
            self.update(obj, rid, **values)
            results.append({"id": rid, "success": True, "errors": []})
        return _json(results)

    # -- Bulk API 2.0 -----------------------------------------------------------------------
    def _create_job(self, body: dict[str, Any]) -> Response:
        op = body.get("operation")
        if op not in ("query", "queryAll"):
            return _error(400, "INVALIDJOB", f"operation must be query or queryAll, got {op!r}")
        if body.get("contentType", "CSV") != "CSV":
            return _error(400, "INVALIDJOB", "only CSV")
        soql = body.get("query", "")
        if re.search(r"COUNT\(\)", soql, re.IGNORECASE):
            return _error(400, "INVALIDJOB", "Aggregate Functions are not supported by Bulk API 2.0")
        try:
            rows, cols, _ = self.select(soql, include_deleted=op == "queryAll", order=False)
            obj = self.parse_soql(soql)[0].name
        except _SoqlError as exc:
            return _error(400, exc.code, str(exc))
        job_id = f"750FAKE{next(self._ids):08d}AAA"
        job = BulkJob(job_id, op, obj, soql, self._snapshot(rows), cols, self.clock)
        if self._fail_jobs:
            job.fail_with = self._fail_jobs.pop(0)
        self.jobs[job_id] = job
        self.jobs_created.append((op, soql))
        return _json(self._job_info(job))

    def _job_info(self, job: BulkJob) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": job.id,
            "operation": job.operation,
            "object": job.object,
            "createdById": "005FAKE",
            "createdDate": sf_datetime(job.created),
            "systemModstamp": sf_datetime(self.clock),
            "state": job.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": 62.0,
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if job.state == "JobComplete":
            info["numberRecordsProcessed"] = len(job.rows)
        if job.state == "Failed":
            info["errorMessage"] = job.fail_with
        return info

    def _job(self, job_id: str, method: str, request: Request) -> Response:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, "NOT_FOUND", f"no job {job_id}")
        if method == "GET":
            if job.state in ("UploadComplete", "InProgress"):
                job.polls += 1
                if job.polls >= self.poll_steps:
                    job.state = "Failed" if job.fail_with else "JobComplete"
                else:
                    job.state = "InProgress"
            return _json(self._job_info(job))
        if method == "PATCH":
            state = (request.get_json() or {}).get("state")
            if state != "Aborted":
                return _error(400, "INVALIDJOBSTATE", f"can only abort, got {state!r}")
            if job.state not in ("UploadComplete", "InProgress"):
                return _error(400, "INVALIDJOBSTATE", f"Job is in state {job.state}; cannot abort")
            job.state = "Aborted"
            return _json(self._job_info(job))
        if method == "DELETE":
            if job.state in ("UploadComplete", "InProgress"):
                return _error(400, "INVALIDJOBSTATE", "abort the job before deleting it")
            del self.jobs[job_id]
            return Response(status=204)
        return _error(405, "METHOD_NOT_ALLOWED", method)

    def _results(self, job_id: str, args: Any) -> Response:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, "NOT_FOUND", f"no job {job_id}")
        if job.state != "JobComplete":
            return _error(
                400, "JOB_NOT_COMPLETE", f"can only download results of a completed job; state {job.state}"
            )
        locator = args.get("locator")
        job.results_served.append(locator)
        start = int(base64.b64decode(locator).decode()) if locator else 0
        size = int(args.get("maxRecords") or self.bulk_page)
        chunk = job.rows[start : start + size]
        end = start + len(chunk)
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(job.columns)
        for rec in chunk:
            writer.writerow([_csv_value(rec.get(c)) for c in job.columns])
        response = Response(buf.getvalue(), 200, content_type="text/csv")
        response.headers["Sforce-NumberOfRecords"] = str(len(chunk))
        # the next set's locator (a pseudo-random-looking string, as Salesforce's), or "null"
        more = end < len(job.rows)
        response.headers["Sforce-Locator"] = base64.b64encode(str(end).encode()).decode() if more else "null"
        return response

    # -- Bulk API 2.0 ingest ------------------------------------------------------------------
    def _create_ingest(self, body: dict[str, Any]) -> Response:
        obj, op = body.get("object"), body.get("operation")
        if obj not in self.objects:
            return _error(400, "INVALIDJOB", f"InvalidJob : Invalid object {obj!r}")
        if op != "update":
            return _error(400, "INVALIDJOB", f"the fake supports operation update only, got {op!r}")
        if body.get("contentType", "CSV") != "CSV" or body.get("lineEnding", "LF") != "LF":
            return _error(400, "INVALIDJOB", "the fake supports CSV with LF line endings only")
        job = IngestJob(f"750INGEST{next(self._ids):06d}AAA", obj, op, self.clock)
        if self._fail_ingest:
            job.error_message, job.stop_after = self._fail_ingest.pop(0)
        self.ingest_jobs[job.id] = job
        self.ingest_created.append(job.id)
        return _json(self._ingest_info(job))

    def _ingest_info(self, job: IngestJob) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": job.id,
            "operation": job.operation,
            "object": job.object,
            "createdById": "005FAKE",
            "createdDate": sf_datetime(job.created),
            "systemModstamp": sf_datetime(self.clock),
            "state": job.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": 62.0,
            "jobType": "V2Ingest",
            "contentUrl": f"services/data/v62.0/jobs/ingest/{job.id}/batches",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
            "numberRecordsProcessed": len(job.successful) + len(job.failed),
            "numberRecordsFailed": len(job.failed),
        }
        if job.error_message and job.state == "Failed":
            info["errorMessage"] = job.error_message
        return info

    def _ingest_upload(self, job_id: str, method: str, request: Request) -> Response:
        job = self.ingest_jobs.get(job_id)
        if job is None:
            return _error(404, "NOT_FOUND", f"no job {job_id}")
        if method != "PUT":
            return _error(405, "METHOD_NOT_ALLOWED", method)
        if job.state != "Open":
            return _error(409, "INVALIDJOBSTATE", f"Job is in state {job.state}; upload needs Open")
        if not (request.content_type or "").startswith("text/csv"):
            return _error(400, "INVALIDCONTENTTYPE", "upload job data as text/csv")
        rows = list(csv.reader(io.StringIO(request.get_data(as_text=True))))
        if not rows or "Id" not in rows[0]:
            return _error(400, "INVALIDBATCH", "the CSV needs a header with Id")
        unknown = [c for c in rows[0] if c not in self.objects[job.object].fields]
        if unknown:
            return _error(400, "INVALIDBATCH", f"InvalidBatch : Field name not found : {unknown[0]}")
        if job.header and job.header != rows[0]:
            return _error(400, "INVALIDBATCH", "every upload of a job needs the same header")
        job.header = rows[0]
        job.rows.extend(rows[1:])
        self.ingest_uploads.append((job_id, rows[0], rows[1:]))
        return Response(status=201)

    def _ingest_job(self, job_id: str, method: str, request: Request) -> Response:
        job = self.ingest_jobs.get(job_id)
        if job is None:
            return _error(404, "NOT_FOUND", f"no job {job_id}")
        if method == "GET":
            if job.state in ("UploadComplete", "InProgress"):
                job.polls += 1
                if job.polls >= self.poll_steps:
                    self._process_ingest(job)
                else:
                    job.state = "InProgress"
            return _json(self._ingest_info(job))
        if method == "PATCH":
            state = (request.get_json() or {}).get("state")
            if state == "UploadComplete" and job.state == "Open":
                job.state = "UploadComplete"
            elif state == "Aborted" and job.state in ("Open", "UploadComplete", "InProgress"):
                job.state = "Aborted"
                job.unprocessed = list(job.rows)
            else:
                return _error(400, "INVALIDJOBSTATE", f"cannot move a {job.state} job to {state!r}")
            return _json(self._ingest_info(job))
        if method == "DELETE":
            if job.state not in ("JobComplete", "Failed", "Aborted"):
                return _error(400, "INVALIDJOBSTATE", "only finished jobs can be deleted")
            del self.ingest_jobs[job_id]
            return Response(status=204)
        return _error(405, "METHOD_NOT_ALLOWED", method)

    def _process_ingest(self, job: IngestJob) -> None:
        """Apply the rows: chunks in parallel, a parent locked by an earlier chunk fails the row."""
        o = self.objects[job.object]
        parent_field = PARENT_FIELDS.get(job.object)
        locked_by: dict[str, int] = {}
        id_col = job.header.index("Id")
        for n, row in enumerate(job.rows):
            if job.stop_after is not None and n >= job.stop_after:
                job.unprocessed = job.rows[n:]
                job.state = "Failed"
                return
            rid = row[id_col]
            rec = o.records.get(rid)
            chunk = n // self.ingest_chunk
            if rid in self._reject_rows:
                job.failed.append((rid, self._reject_rows[rid], row))
                continue
            if rec is None or rec["IsDeleted"]:
                job.failed.append((rid, "ENTITY_IS_DELETED:entity is deleted:--", row))
                continue
            parent = rec.get(parent_field) if parent_field else None
            if parent is not None and locked_by.setdefault(parent, chunk) != chunk:
                job.failed.append(
                    (rid, "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--", row)
                )
                continue
            values = {
                c: (None if v == "#N/A" else _typed(o.fields[c].type, v))
                for c, v in zip(job.header, row, strict=True)
                if c != "Id" and v != ""
            }
            self.update(job.object, rid, **values)
            job.successful.append((rid, row))
        job.state = "Failed" if job.error_message else "JobComplete"

    def _ingest_results(self, job_id: str, kind: str) -> Response:
        job = self.ingest_jobs.get(job_id)
        if job is None:
            return _error(404, "NOT_FOUND", f"no job {job_id}")
        if job.state not in ("JobComplete", "Failed", "Aborted"):
            return _error(400, "INVALIDJOBSTATE", f"results need a finished job; state {job.state}")
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        if kind == "successfulResults":
            writer.writerow(["sf__Id", "sf__Created", *job.header])
            writer.writerows([rid, "false", *row] for rid, row in job.successful)
        elif kind == "failedResults":
            writer.writerow(["sf__Id", "sf__Error", *job.header])
            writer.writerows([rid, err, *row] for rid, err, row in job.failed)
        else:
            writer.writerow(job.header)
            writer.writerows(job.unprocessed)
        return Response(buf.getvalue(), 200, content_type="text/csv")

    def _snapshot(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [dict(r) for r in rows] if self.copy_snapshots else rows

    # -- helpers for assertions ---------------------------------------------------------------
    def calls_to(self, pattern: str) -> int:
        """How many data API calls matched a path pattern."""
        rx = re.compile(pattern)
        return sum(1 for _, path in self.calls if rx.search(path))


class _SoqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _batch_size(options: str) -> int:
    m = re.search(r"batchSize=(\d+)", options)
    size = int(m.group(1)) if m else MAX_BATCH
    return max(MIN_BATCH, min(MAX_BATCH, size))


def _literal(text: str) -> Any:
    t = text.strip()
    if t.startswith("'") and t.endswith("'"):
        return t[1:-1].replace("\\'", "'")
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if t.lower() == "null":
        return None
    if _DATETIME_LIT.match(t):
        return parse_sf_datetime(t)
    if _DATE_LIT.match(t):
        return t
    try:
        return float(t) if "." in t else int(t)
    except ValueError as exc:
        raise _SoqlError("MALFORMED_QUERY", f"bad literal {t!r}") from exc


def _compare(value: Any, op: str, lit: Any) -> bool:
    if isinstance(lit, datetime):
        if value is None:
            return False
        value = parse_sf_datetime(value)
    if lit is None:
        return (value is None) == (op == "=")
    if value is None:
        return op == "!="
    return {
        "=": value == lit,
        "!=": value != lit,
        "<": value < lit,
        "<=": value <= lit,
        ">": value > lit,
        ">=": value >= lit,
    }[op]


def _typed(type_: str, text: str) -> Any:
    """A CSV value as the org stores it (JSON types), by describe type."""
    if type_ == "boolean":
        return text.lower() == "true"
    if type_ in ("currency", "double", "percent"):
        return float(text)
    if type_ == "int":
        return int(text)
    return text


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def iter_csv(text: str) -> Iterator[dict[str, str]]:
    """Parse a Bulk result page (for tests that read the fake's CSV directly)."""
    yield from csv.DictReader(io.StringIO(text))
