"""Salesforce at volume: Bulk API 2.0 query jobs, API budget, deletes beyond 15 days.

:class:`SalesforceVolumeSource` is the ``salesforce`` source kind. It is the REST
:class:`~salesops.sources.salesforce.SalesforceSource` (describe, SOQL pages, getDeleted,
sObject Collections writes: unchanged) plus, per object and window:

* **Path choice**: one ``SELECT COUNT() FROM obj WHERE <window>`` call; at or above
  ``volume.bulk_threshold`` records the window is read with a **Bulk API 2.0 query job**, below it
  with REST pages (small objects, incremental windows).
* **Bulk 2.0 job**: ``POST /jobs/query`` with ``operation: queryAll`` (deleted and archived rows
  come back with ``IsDeleted = true``), poll ``GET /jobs/query/{id}`` with exponential backoff
  (tenacity) up to ``volume.poll_timeout_seconds``, then ``GET /jobs/query/{id}/results`` with
  ``maxRecords`` = ``volume.bulk_page_records`` and the ``Sforce-Locator`` of the previous page,
  each CSV page parsed into an Arrow table and handed to the lander at once (memory bounded by one
  page). A job that ends ``Failed``/``Aborted`` fails the task with Salesforce's message; a job
  still running when the wait ends, or any error while it runs, is aborted
  (``PATCH {"state": "Aborted"}``). A finished job is deleted after its last page.
* **Resume**: after each landed page :meth:`resume_state` gives ``{job_id, query, locator}``; the
  lander (``ingest.extract.extract_batch``) stores it with the pages already written, and after a
  crash :meth:`resume` continues from that locator in the same job (Salesforce keeps a job's
  results and their locators for as long as the job exists).
* **Deletes**: rows with ``IsDeleted = true`` from the Bulk job become deletes of the window
  (``deleted_at`` = their SystemModstamp). REST windows use getDeleted, which covers only the last
  15 days: for a window starting further back it is skipped, and :meth:`list_ids` serves the id
  reconciliation that catches deletes the connector could not see (see ``ingest.load``).
* **API budget**: every response's ``Sforce-Limit-Info: api-usage=N/M`` is read (a ``requests``
  response hook, so REST and Bulk calls alike); when ``N`` reaches ``volume.api_budget_share`` of
  ``M`` the next step stops with :class:`ApiBudgetExceeded` (nothing is published; the next run
  resumes from the same watermark, or the same Bulk locator). :attr:`api_calls` counts the calls.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import requests
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_exponential

from salesops.sources.base import DeletedRecord, Page, SourceError
from salesops.sources.http import ApiError, as_utc, decode_json, parse_api_datetime, require_keys
from salesops.sources.salesforce import SalesforceClient, SalesforceSource, settings
from salesops.sources.salesforce_ingest import SalesforceIngest

log = logging.getLogger(__name__)

DELETE_LOG_DAYS = 15  # getDeleted and the recycle bin keep deletes this long
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_TERMINAL = {"JobComplete", "Failed", "Aborted"}

DEFAULTS: dict[str, Any] = {
    "bulk_threshold": 50_000,
    "bulk_page_records": 100_000,
    "poll_initial_seconds": 2.0,
    "poll_max_seconds": 60.0,
    "poll_timeout_seconds": 3600.0,
    "api_budget_share": 0.8,
    "reconcile_every_days": 7,
    "formula_refresh_days": 7,
    "custom_fields": "none",
    "ingest_threshold": 2000,
    "ingest_parent_fields": {"Opportunity": "AccountId", "Contact": "AccountId"},
}


def volume_settings() -> dict[str, Any]:
    """``volume:`` of include/config/sources/salesforce.yaml over :data:`DEFAULTS`."""
    return {**DEFAULTS, **(settings().get("volume") or {})}


class ApiBudgetExceeded(SourceError):
    """The org's daily API usage reached the project's configured share: stop, resume next run."""


class ApiBudget:
    """Counts API calls and watches ``Sforce-Limit-Info`` (installed as a ``requests`` hook).

    Args:
        share: fraction of the daily allowance this project may use (0 < share <= 1).
    """

    def __init__(self, share: float) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"api_budget_share must be in (0, 1], got {share}")
        self.share = share
        self.calls = 0
        self.used: int | None = None
        self.max: int | None = None

    @property
    def allowed(self) -> int | None:
        return None if self.max is None else math.floor(self.max * self.share)

    def observe(self, response: Any, *_: Any, **__: Any) -> Any:
        """Response hook: count data API calls and read the org's usage."""
        if "/services/data/" in (response.url or ""):
            self.calls += 1
        m = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if m:
            self.used, self.max = int(m.group(1)), int(m.group(2))
        return response

    def check(self, what: str) -> None:
        """Raise :class:`ApiBudgetExceeded` before ``what`` if the share is used up."""
        allowed = self.allowed
        if self.used is not None and allowed is not None and self.used >= allowed:
            raise ApiBudgetExceeded(
                f"Salesforce API budget: the org has used {self.used} of {self.max} daily API calls; "
                f"this project may use {self.share:.0%} ({allowed}). Stopped before {what}; nothing "
                "was published and the next run resumes from the same point (raise "
                "volume.api_budget_share in include/config/sources/salesforce.yaml to allow more)."
            )


class SalesforceVolumeSource(SalesforceSource):
    """:class:`~salesops.sources.base.CrmSource` for Salesforce with Bulk API 2.0 and a budget.

    Args:
        client: an authenticated :class:`~salesops.sources.salesforce.SalesforceClient`.
        page_size: REST batch size hint.
        **overrides: any key of ``volume:`` in the settings (tests and the benchmark use this).
    """

    def __init__(self, client: SalesforceClient, *, page_size: int | None = None, **overrides: Any) -> None:
        super().__init__(client, page_size=page_size)
        unknown = set(overrides) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown volume settings {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        self.volume = {**volume_settings(), **overrides}
        self.budget = ApiBudget(float(self.volume["api_budget_share"]))
        self.reconcile_every_days = self.volume["reconcile_every_days"]
        self.formula_refresh_days = self.volume["formula_refresh_days"]
        self.discovered_fields: dict[str, list[str]] = {}
        self.client.session.hooks.setdefault("response", []).append(self._on_response)
        self.methods: dict[str, str] = {}  # object -> "rest" | "bulk" (last read)
        self._bulk_deletes: dict[str, list[DeletedRecord]] = {}
        self._state: dict[str, Any] | None = None
        self._resume: dict[str, Any] | None = None

    @classmethod
    def from_conn_id(cls, conn_id: str = "salesforce_default") -> SalesforceVolumeSource:
        from salesops.sources import salesforce

        return cls(salesforce.__getattr__("SalesforceCrmHook")(conn_id).get_conn())

    # -- write-back at volume (salesops.bulk_update.ingest) -----------------------------------
    @property
    def ingest_threshold(self) -> int:
        """Plans with at least this many records to write use a Bulk API 2.0 ingest job."""
        return int(self.volume["ingest_threshold"])

    def ingest_parent_field(self, api_name: str) -> str | None:
        """The lookup ingest rows of ``api_name`` are sorted by (None: no parent to lock)."""
        return (self.volume["ingest_parent_fields"] or {}).get(api_name)

    @property
    def ingest(self) -> SalesforceIngest:
        """Bulk API 2.0 ingest jobs on this org (sharing the client, its budget and call count)."""
        return SalesforceIngest(
            self.client,
            transient_errors=self.transient_errors,
            poll_initial_seconds=float(self.volume["poll_initial_seconds"]),
            poll_max_seconds=float(self.volume["poll_max_seconds"]),
            poll_timeout_seconds=float(self.volume["poll_timeout_seconds"]),
        )

    def _on_response(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        return self.budget.observe(response)

    @property
    def api_calls(self) -> int:
        """Data API calls made by this source so far (retries included: they count for Salesforce)."""
        return self.budget.calls

    def limits(self) -> dict[str, Any]:
        """``GET /limits``: the org's daily allowance and what is left."""
        payload = self.client.get_json(self.client.data_path("limits"))
        return require_keys(payload, ["DailyApiRequests"], "Salesforce /limits")

    # -- resume protocol (used by ingest.extract.extract_batch) ------------------------------
    def resume_state(self) -> dict[str, Any] | None:
        """Where a crashed read would continue: ``{object, job_id, query, locator}`` (Bulk only)."""
        return None if self._state is None else dict(self._state)

    def resume(self, state: dict[str, Any]) -> None:
        """Continue the next :meth:`read_changes` of ``state['object']`` from a saved locator."""
        self._resume = dict(state)

    # -- reading ---------------------------------------------------------------------------
    def count(self, api_name: str, cursor: str, since: datetime | None, until: datetime) -> int:
        """Records in the window (``SELECT COUNT()``, one REST call)."""
        where = self.soql(api_name, [("Id", "Id")], cursor, since, until).split(" WHERE ", 1)[1]
        where = where.split(" ORDER BY ", 1)[0]
        self.budget.check(f"counting {api_name}")
        payload = self.client.get_json(
            self.client.data_path("query"), params={"q": f"SELECT COUNT() FROM {api_name} WHERE {where}"}
        )
        return int(require_keys(payload, ["totalSize"], f"Salesforce {api_name} COUNT()")["totalSize"])

    def read_changes(
        self, api_name: str, fields: Sequence[str], cursor: str, since: datetime | None, until: datetime
    ) -> Iterator[Page]:
        self._bulk_deletes.pop(api_name, None)
        self._state = None
        if not self._exists(api_name):
            return
        fields = [*fields, *self.custom_fields(api_name, fields)]
        resume = self._resume if self._resume and self._resume.get("object") == api_name else None
        self._resume = None
        if resume is None:
            n = self.count(api_name, cursor, since, until)
            use_bulk = n >= int(self.volume["bulk_threshold"])
            log.info(
                "salesforce: %s: %d records in the window -> %s",
                api_name,
                n,
                "Bulk API 2.0" if use_bulk else "REST",
            )
        else:
            use_bulk = True
            log.info("salesforce: %s: resuming Bulk job %s", api_name, resume["job_id"])
        self.methods[api_name] = "bulk" if use_bulk else "rest"
        if not use_bulk:
            for page in super().read_changes(api_name, fields, cursor, since, until):
                self.budget.check(f"the next {api_name} page")
                yield page
            return
        yield from self._bulk_read(api_name, fields, cursor, since, until, resume)

    def custom_fields(self, api_name: str, fields: Sequence[str]) -> list[str]:
        """Custom fields (``__c``) the org has beyond ``fields``, per ``volume.custom_fields``.

        ``none`` (default): none. ``all``: every custom field describe lists. A mapping
        ``{Object: [Field__c, ...]}``: only those (opt-in), each checked against describe. They
        arrive as extra columns, which the loader keeps in raw and reports as schema drift.
        """
        mode = self.volume["custom_fields"]
        if not mode or mode == "none":
            return []
        desc = self.describe(api_name) or {"fields": []}
        custom = [
            f["name"] for f in desc["fields"] if str(f["name"]).endswith("__c") and f["name"] not in fields
        ]
        if mode == "all":
            found = custom
        elif isinstance(mode, dict):
            wanted = list(mode.get(api_name) or [])
            absent = [f for f in wanted if f not in custom and f not in fields]
            if absent:
                raise SourceError(
                    f"Salesforce {api_name}: volume.custom_fields lists {absent}, which this org's "
                    f"describe does not have (custom fields there: {custom})"
                )
            found = [f for f in wanted if f in custom]
        else:
            raise ValueError(f"volume.custom_fields must be none, all or a mapping, got {mode!r}")
        if found and self.discovered_fields.get(api_name) != found:
            log.info("salesforce: %s: custom fields picked up from describe: %s", api_name, found)
        self.discovered_fields[api_name] = found
        return found

    def formula_fields(self, api_name: str, fields: Sequence[str]) -> list[str]:
        """The requested fields that are formulas in this org (describe ``calculated``)."""
        desc = self.describe(api_name) or {"fields": []}
        calculated = {f["name"] for f in desc["fields"] if f.get("calculated")}
        return [f for f, expr in self._select_list(api_name, fields) if expr in calculated]

    def read_formula_values(
        self, api_name: str, fields: Sequence[str], cursor: str, until: datetime
    ) -> Iterator[Page]:
        """Every live record's current formula values (Id + formula fields), REST or Bulk by size.

        Formulas do not move SystemModstamp, so incremental windows never see them change; the
        loader runs this on ``volume.formula_refresh_days`` and overwrites the staged values.
        """
        formulas = self.formula_fields(api_name, fields)
        if not formulas:
            return
        method = self.methods.get(api_name)
        saved_deletes = self._bulk_deletes.get(api_name)
        try:
            yield from self.read_changes(api_name, ["Id", cursor, *formulas], cursor, None, until)
        finally:
            if method is not None:
                self.methods[api_name] = method
            if saved_deletes is not None:
                self._bulk_deletes[api_name] = saved_deletes
            self._state = None

    def bulk_soql(
        self,
        api_name: str,
        select: Sequence[tuple[str, str]],
        cursor: str,
        since: datetime | None,
        until: datetime,
    ) -> str:
        """The window's SOQL for a Bulk job: no ORDER BY (it disables PK chunking), IsDeleted added."""
        cols = [expr for _, expr in select]
        if "IsDeleted" not in cols:
            cols.append("IsDeleted")
        where = self.soql(api_name, select, cursor, since, until).split(" WHERE ", 1)[1]
        where = where.split(" ORDER BY ", 1)[0]
        return f"SELECT {', '.join(cols)} FROM {api_name} WHERE {where}"

    def _bulk_read(
        self,
        api_name: str,
        fields: Sequence[str],
        cursor: str,
        since: datetime | None,
        until: datetime,
        resume: dict[str, Any] | None,
    ) -> Iterator[Page]:
        select = self._select_list(api_name, fields)
        if cursor not in {f for f, _ in select}:
            raise SourceError(f"Salesforce {api_name}: cursor field {cursor!r} does not exist in this org")
        query = self.bulk_soql(api_name, select, cursor, since, until)
        if resume is not None and resume.get("query") != query:
            raise SourceError(
                f"Salesforce {api_name}: the saved Bulk job {resume.get('job_id')} ran another query; "
                "delete the .partial landing folder to start over"
            )
        if resume is None:
            job_id = self._create_job(api_name, query)
            locator: str | None = None
        else:
            job_id, locator = resume["job_id"], resume.get("locator")
            try:
                self._job_state(job_id)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                # The job is gone (deleted, or expired after its retention): read the window
                # again with a new job. Pages landed before are kept; the load keeps the latest
                # version of each record, so the repeated rows change nothing in staging.
                log.warning(
                    "salesforce: %s: saved Bulk job %s no longer exists; starting a new one", api_name, job_id
                )
                job_id, locator = self._create_job(api_name, query), None
        self._wait(api_name, job_id)
        deletes: list[DeletedRecord] = []
        self._bulk_deletes[api_name] = deletes
        page = 0
        while True:
            page += 1
            self.budget.check(f"{api_name} Bulk result page {page}")
            response = self._result_page(job_id, locator)
            table = self._parse_csv(api_name, response.content, select, page, deletes)
            nxt = response.headers.get("Sforce-Locator")
            if nxt is None:
                raise SourceError(
                    f"Salesforce {api_name} Bulk job {job_id} page {page}: no Sforce-Locator header"
                )
            done = nxt in ("", "null")
            self._state = {
                "object": api_name,
                "job_id": job_id,
                "query": query,
                "locator": None if done else nxt,
            }
            if done:
                self._state["done"] = True
            if table.num_rows:
                yield table
            if done:
                break
            locator = nxt
        self._state = None
        try:
            self.client.request("DELETE", self.client.data_path(f"jobs/query/{job_id}"), ok=(204,))
        except ApiError as exc:  # cleanup only: the results are already landed
            log.warning("salesforce: could not delete finished Bulk job %s: %s", job_id, exc)

    def _create_job(self, api_name: str, query: str) -> str:
        self.budget.check(f"creating the {api_name} Bulk job")
        response = self.client.request(
            "POST",
            self.client.data_path("jobs/query"),
            json={
                "operation": "queryAll",
                "query": query,
                "contentType": "CSV",
                "columnDelimiter": "COMMA",
                "lineEnding": "LF",
            },
        )
        job = require_keys(decode_json(response, "salesforce"), ["id", "state"], f"Bulk job for {api_name}")
        log.info("salesforce: %s: Bulk API 2.0 job %s created (queryAll)", api_name, job["id"])
        return str(job["id"])

    def _job_state(self, job_id: str) -> dict[str, Any]:
        self.budget.check(f"polling Bulk job {job_id}")
        payload = self.client.get_json(self.client.data_path(f"jobs/query/{job_id}"))
        return require_keys(payload, ["state"], f"Bulk job {job_id}")

    def _wait(self, api_name: str, job_id: str) -> None:
        """Poll with exponential backoff until the job ends; abort it if we stop waiting."""
        retrying = Retrying(
            retry=retry_if_result(lambda info: info["state"] not in _TERMINAL),
            wait=wait_exponential(
                multiplier=float(self.volume["poll_initial_seconds"]),
                max=float(self.volume["poll_max_seconds"]),
            ),
            stop=stop_after_delay(float(self.volume["poll_timeout_seconds"])),
            sleep=self.client.sleep,
            reraise=False,
        )
        try:
            info = retrying(self._job_state, job_id)
        except RetryError as exc:
            self.abort(job_id)
            raise SourceError(
                f"Salesforce {api_name}: Bulk job {job_id} still not finished after "
                f"{self.volume['poll_timeout_seconds']} s; aborted it"
            ) from exc
        except BaseException:
            self.abort(job_id)
            raise
        if info["state"] != "JobComplete":
            raise SourceError(
                f"Salesforce {api_name}: Bulk job {job_id} ended {info['state']}: "
                f"{info.get('errorMessage') or 'no message'}"
            )

    def abort(self, job_id: str) -> None:
        """Abort a running job (best effort: a finished job cannot be aborted)."""
        try:
            self.client.request(
                "PATCH", self.client.data_path(f"jobs/query/{job_id}"), json={"state": "Aborted"}
            )
            log.warning("salesforce: aborted Bulk job %s", job_id)
        except (ApiError, ApiBudgetExceeded) as exc:
            log.warning("salesforce: could not abort Bulk job %s: %s", job_id, exc)

    def _parse_csv(
        self,
        api_name: str,
        body: bytes,
        select: Sequence[tuple[str, str]],
        page: int,
        deletes: list[DeletedRecord],
    ) -> pa.Table:
        """One Bulk CSV page -> Arrow strings with manifest names; IsDeleted rows -> ``deletes``."""
        reader = csv.reader(io.StringIO(body.decode("utf-8")))
        header = next(reader, None)
        if header is None:
            return pa.table({f: pa.array([], pa.string()) for f, _ in select})
        wanted = [expr for _, expr in select] + ["IsDeleted"]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise SourceError(
                f"Salesforce {api_name} Bulk page {page}: CSV lacks requested columns {missing}"
            )
        idx = {c: header.index(c) for c in wanted}
        cols: dict[str, list[str | None]] = {f: [] for f, _ in select}
        for n, row in enumerate(reader, start=1):
            if len(row) != len(header):
                raise SourceError(
                    f"Salesforce {api_name} Bulk page {page} row {n}: {len(row)} fields, header has {len(header)}"
                )
            if row[idx["IsDeleted"]] == "true":
                when = parse_api_datetime(row[idx["SystemModstamp"]]) if "SystemModstamp" in idx else None
                if when is None:
                    raise SourceError(
                        f"Salesforce {api_name} Bulk page {page}: deleted row {row[idx['Id']]} has no stamp"
                    )
                deletes.append(DeletedRecord(row[idx["Id"]], when))
                continue
            for f, expr in select:
                value = row[idx[expr]]
                cols[f].append(value if value != "" else None)
        return pa.table({f: pa.array(v, pa.string()) for f, v in cols.items()})

    # -- deletes ---------------------------------------------------------------------------
    def read_deleted(self, api_name: str, since: datetime | None, until: datetime) -> list[DeletedRecord]:
        if self.methods.get(api_name) == "bulk":
            # queryAll already returned the window's deleted rows (IsDeleted = true)
            return list(self._bulk_deletes.pop(api_name, []))
        if since is not None and as_utc(since) < as_utc(until) - timedelta(days=DELETE_LOG_DAYS):
            log.warning(
                "salesforce: %s: the watermark %s is more than %d days back; getDeleted cannot cover it. "
                "Deletes of this gap are found by the id reconciliation of this run.",
                api_name,
                since,
                DELETE_LOG_DAYS,
            )
            return []
        self.budget.check(f"reading {api_name} deletes")
        return super().read_deleted(api_name, since, until)

    def _result_page(self, job_id: str, locator: str | None) -> requests.Response:
        """One page of a Bulk query job's CSV results (``locator``: where the previous page ended)."""
        params: dict[str, Any] = {"maxRecords": int(self.volume["bulk_page_records"])}
        if locator:
            params["locator"] = locator
        return self.client.request(
            "GET",
            self.client.data_path(f"jobs/query/{job_id}/results"),
            params=params,
            headers={"Accept": "text/csv"},
        )

    def list_ids(self, api_name: str) -> Iterator[list[str]]:
        """Every live record id of the object, in pages (Bulk ``query``: deleted rows excluded)."""
        if not self._exists(api_name):
            return
        job_id = self._create_job_op(api_name, f"SELECT Id FROM {api_name}", "query")
        self._wait(api_name, job_id)
        locator: str | None = None
        while True:
            self.budget.check(f"{api_name} id reconciliation page")
            response = self._result_page(job_id, locator)
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
            if not rows or rows[0] != ["Id"]:
                raise SourceError(
                    f"Salesforce {api_name} id reconciliation: unexpected CSV header {rows[:1]}"
                )
            yield [r[0] for r in rows[1:]]
            nxt = response.headers.get("Sforce-Locator")
            if nxt in (None, "", "null"):
                break
            locator = nxt
        self.client.request("DELETE", self.client.data_path(f"jobs/query/{job_id}"), ok=(204,))

    def _create_job_op(self, api_name: str, query: str, operation: str) -> str:
        self.budget.check(f"creating the {api_name} Bulk job")
        response = self.client.request(
            "POST",
            self.client.data_path("jobs/query"),
            json={"operation": operation, "query": query, "contentType": "CSV"},
        )
        return str(
            require_keys(decode_json(response, "salesforce"), ["id"], f"Bulk job for {api_name}")["id"]
        )

    # -- planning --------------------------------------------------------------------------
    def estimate_first_sync(self, objects: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """Dry run: API calls a first sync would cost per object, REST vs the chosen path.

        Args:
            objects: ``(api_name, cursor)`` pairs (the manifest).

        Returns:
            One dict per object: ``object``, ``records``, ``method``, ``rest_calls``, ``bulk_calls``,
            ``calls`` (of the chosen method); costs one COUNT() call per object plus one describe.
        """
        until = self.server_time()
        rest_page = max(200, min(2000, self.page_size))
        bulk_page = int(self.volume["bulk_page_records"])
        out = []
        for api_name, cursor in objects:
            if self.describe(api_name) is None:  # reported, not an error: this is a profile
                out.append(
                    {
                        "object": api_name,
                        "records": None,
                        "method": "absent",
                        "rest_calls": 0,
                        "bulk_calls": 0,
                        "calls": 0,
                    }
                )
                continue
            n = self.count(api_name, cursor, None, until)
            # describe + count + query pages (at least one)
            rest = 2 + max(1, math.ceil(n / rest_page))
            # describe + count + create + polls (estimate 3) + result pages + delete
            bulk = 2 + 1 + 3 + max(1, math.ceil(n / bulk_page)) + 1
            method = "bulk" if n >= int(self.volume["bulk_threshold"]) else "rest"
            out.append(
                {
                    "object": api_name,
                    "records": n,
                    "method": method,
                    "rest_calls": rest,
                    "bulk_calls": bulk,
                    "calls": bulk if method == "bulk" else rest,
                }
            )
        return out
