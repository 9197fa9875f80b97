"""Salesforce Bulk API 2.0 ingest jobs: large write-backs as one CSV update job.

Used by the bulk-update apply step (``salesops.bulk_update.ingest``) for plans at or above
``volume.ingest_threshold`` records; smaller plans stay on sObject Collections (200 per call).

Calls (``/services/data/vXX.X/jobs/ingest``):

* ``POST jobs/ingest`` ``{"object", "operation": "update", "contentType": "CSV", "lineEnding": "LF"}``
  -> job in state ``Open``.
* ``PUT jobs/ingest/{id}/batches`` with the CSV (``Content-Type: text/csv``): header ``Id`` plus
  the fields set; an empty cell leaves a field unchanged, ``#N/A`` sets it to null.
* ``PATCH jobs/ingest/{id}`` ``{"state": "UploadComplete"}``: processing starts.
* ``GET jobs/ingest/{id}`` polled with exponential backoff (tenacity) until ``JobComplete``,
  ``Failed`` or ``Aborted``.
* ``GET jobs/ingest/{id}/successfulResults/`` (``sf__Id``, ``sf__Created``, the row),
  ``.../failedResults/`` (``sf__Id``, ``sf__Error``, the row) and ``.../unprocessedrecords/`` (the
  rows a failed or aborted job never reached): one :class:`~salesops.sources.base.UpdateResult`
  per record sent. Results are read the same way for a finished, a failed and an aborted job:
  a job is never submitted twice; a record it did not process is reported, not resent.

Rows are sorted by their parent id (``AccountId`` for Opportunity and Contact, ...), so the
children of one parent sit together in the job's parallel chunks, as Salesforce advises against
``UNABLE_TO_LOCK_ROW``.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_exponential

from salesops.sources.base import Record, SourceError, UpdateResult
from salesops.sources.http import decode_json, require_keys
from salesops.sources.salesforce import SalesforceClient

log = logging.getLogger(__name__)

FINISHED = ("JobComplete", "Failed", "Aborted")
NULL = "#N/A"  # Bulk API: the value that sets a field to null (an empty cell leaves it unchanged)


@dataclass
class IngestResult:
    """What one ingest job did: per-record results (processed records only) and the job's end."""

    job_id: str
    state: str
    error_message: str | None
    results: dict[str, UpdateResult] = field(default_factory=dict)
    unprocessed: list[str] = field(default_factory=list)


def to_csv(updates: Sequence[Record]) -> bytes:
    """The upload CSV: ``Id`` then every field any update sets (sorted), LF line endings."""
    fields = sorted({k for u in updates for k in u if k != "Id"})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["Id", *fields])
    for u in updates:
        writer.writerow([u["Id"], *(_cell(u, f) for f in fields)])
    return buf.getvalue().encode("utf-8")


def _cell(update: Record, name: str) -> str:
    if name not in update:
        return ""  # not set by this update: leave the field as it is
    value = update[name]
    if value is None or value == "":
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parent_order(updates: Sequence[Record], parents: Mapping[str, str | None]) -> list[Record]:
    """Updates sorted by parent id, then record id (records without a known parent last)."""
    return sorted(updates, key=lambda u: (parents.get(u["Id"]) is None, parents.get(u["Id"]) or "", u["Id"]))


class SalesforceIngest:
    """Bulk API 2.0 ingest jobs on one org.

    Args:
        client: an authenticated :class:`~salesops.sources.salesforce.SalesforceClient`.
        transient_errors: error codes (``sf__Error`` prefix) worth another attempt after a re-read.
        poll_initial_seconds, poll_max_seconds, poll_timeout_seconds: polling backoff and limit.
    """

    def __init__(
        self,
        client: SalesforceClient,
        *,
        transient_errors: set[str],
        poll_initial_seconds: float,
        poll_max_seconds: float,
        poll_timeout_seconds: float,
    ) -> None:
        self.client = client
        self.transient_errors = transient_errors
        self.poll = (poll_initial_seconds, poll_max_seconds, poll_timeout_seconds)

    def _path(self, rel: str) -> str:
        return self.client.data_path(f"jobs/ingest{rel}")

    def create(self, api_name: str) -> str:
        """Open an update job for ``api_name``; return its id."""
        body = {"object": api_name, "operation": "update", "contentType": "CSV", "lineEnding": "LF"}
        # a POST is never retried by the HTTP layer: at worst a job is left Open (no data, no write)
        job = require_keys(
            decode_json(self.client.request("POST", self._path(""), json=body), "salesforce"),
            ["id", "state"],
            f"Bulk ingest job for {api_name}",
        )
        log.info("salesforce: %s: Bulk API 2.0 ingest job %s opened (update)", api_name, job["id"])
        return str(job["id"])

    def upload_and_close(self, job_id: str, updates: Sequence[Record]) -> None:
        """Upload the CSV, then mark the upload complete (processing starts)."""
        self.client.request(
            "PUT",
            self._path(f"/{job_id}/batches"),
            data=to_csv(updates),
            headers={"Content-Type": "text/csv"},
            ok=(201,),
        )
        self.client.request("PATCH", self._path(f"/{job_id}"), json={"state": "UploadComplete"})
        log.info("salesforce: ingest job %s: %d rows uploaded, upload complete", job_id, len(updates))

    def state(self, job_id: str) -> dict[str, Any]:
        return require_keys(self.client.get_json(self._path(f"/{job_id}")), ["state"], f"ingest job {job_id}")

    def wait(self, job_id: str) -> dict[str, Any]:
        """Poll until the job is finished. A job still running at the limit is left running (it
        may have written records) and the error says so; the next apply re-reads it."""
        initial, maximum, timeout = self.poll
        retrying = Retrying(
            retry=retry_if_result(lambda info: info["state"] not in FINISHED),
            wait=wait_exponential(multiplier=initial, max=maximum),
            stop=stop_after_delay(timeout),
            sleep=self.client.sleep,
            reraise=False,
        )
        try:
            return retrying(self.state, job_id)
        except RetryError as exc:
            raise SourceError(
                f"Salesforce ingest job {job_id} still running after {timeout} s; not aborted (it may have "
                "written records): the next apply of this plan re-reads the job instead of resubmitting"
            ) from exc

    def results(self, job_id: str, ids: Sequence[str], info: Mapping[str, Any]) -> IngestResult:
        """Per-record results of a finished job (the same reads for JobComplete, Failed, Aborted)."""
        out = IngestResult(job_id, str(info["state"]), info.get("errorMessage"))
        wanted = set(ids)
        for row in self._csv(job_id, "successfulResults"):
            rid = row.get("sf__Id") or row.get("Id") or ""
            if rid in wanted:
                out.results[rid] = UpdateResult(rid, True)
        for row in self._csv(job_id, "failedResults"):
            rid = row.get("sf__Id") or row.get("Id") or ""
            if rid not in wanted:
                continue
            error = row.get("sf__Error") or "no error message"
            code = error.split(":", 1)[0]
            out.results[rid] = UpdateResult(rid, False, [error], transient=code in self.transient_errors)
        out.unprocessed = [rid for rid in ids if rid not in out.results]
        return out

    def _csv(self, job_id: str, kind: str) -> list[dict[str, str]]:
        response = self.client.request(
            "GET", self._path(f"/{job_id}/{kind}/"), headers={"Accept": "text/csv"}
        )
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))

    def delete(self, job_id: str) -> None:
        """Remove a finished job whose results are logged (best effort)."""
        try:
            self.client.request("DELETE", self._path(f"/{job_id}"), ok=(204,))
        except Exception as exc:  # cleanup only
            log.warning("salesforce: could not delete ingest job %s: %s", job_id, exc)
