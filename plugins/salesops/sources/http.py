"""A small HTTP client base for the API sources (Salesforce, HubSpot, Marketo).

What every connector needs and nothing more:

* one ``requests.Session`` with connect/read timeouts on every call;
* retries with exponential backoff and full jitter on 429, 5xx and connection errors, honouring
  ``Retry-After`` (seconds or an HTTP date), with a hard cap on attempts and on any single wait -
  **for idempotent requests only**: the policy is a urllib3 ``Retry`` whose ``allowed_methods``
  are GET/HEAD/OPTIONS (plus read-only POSTs a connector marks ``idempotent=True``, e.g. HubSpot
  search). A PATCH/POST/PUT/DELETE that fails is raised at once (``transient`` set when a later
  retry could succeed): the server may have applied it, so only the bulk-update apply loop,
  which re-reads first, decides whether to send it again;
* a hook for re-authentication when a token expires (one retry after :meth:`ApiClient.refresh_auth`);
* logging with lazy ``%s`` arguments that names the method and the URL *path* only: query strings
  and headers can carry tokens or client secrets (Marketo's identity endpoint takes its secret as a
  query parameter), so they are never logged;
* :func:`require_keys` and :func:`check_records`, the "did the API return what was asked" checks
  that raise :class:`~salesops.sources.base.SourceError` naming the object, page and field.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.util.retry import Retry

from salesops.sources.base import SourceError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiError(SourceError):
    """The API answered with an error status (after any retries).

    Attributes:
        status: the HTTP status code (None for a connection error that outlived the retries).
        transient: whether retrying later could succeed (429, 5xx, connection errors).
        body: the decoded JSON error body, or the first 500 characters of the text body.
    """

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False, body: Any = None):
        super().__init__(message)
        self.status = status
        self.transient = transient
        self.body = body


def redact_url(url: str) -> str:
    """The URL without its query string: safe to log (queries may carry secrets or tokens)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = (now or (lambda: datetime.now(UTC)))()
    return max(0.0, (when - current).total_seconds())


def http_date(response: requests.Response) -> datetime | None:
    """The server's clock from a response's ``Date`` header (UTC), or None."""
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class ApiClient:
    """Base for the connectors' API clients.

    Subclasses set :attr:`base_url`, override :meth:`auth_headers` and, when tokens expire,
    :meth:`refresh_auth`.

    Args:
        base_url: prefix for relative paths (``https://example.my.salesforce.com``).
        session: a ``requests.Session`` to use (tests pass one with a fake adapter).
        timeout: ``(connect, read)`` seconds for every request.
        max_attempts: hard cap on tries per request (first try included).
        backoff_base: first backoff in seconds; doubles per attempt, with full jitter.
        backoff_cap: no single wait is longer than this, whatever ``Retry-After`` says.
        sleep: the sleep function (patched in tests).
        name: the system name used in log lines and errors.
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
        max_attempts: int = 6,
        backoff_base: float = 1.0,
        backoff_cap: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        name: str = "api",
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.name = name
        self.last_response: requests.Response | None = None
        # Which requests may be retried on which statuses (the waits are backoff() below, so the
        # injected sleep keeps tests instant).
        self.retry_policy = Retry(
            total=max_attempts - 1, allowed_methods=IDEMPOTENT_METHODS, status_forcelist=RETRY_STATUSES
        )

    def may_retry(self, method: str, status: int | None, idempotent: bool | None = None) -> bool:
        """True when a failed request may be sent again (``status`` None: connection error)."""
        if idempotent is None:
            idempotent = method.upper() in (self.retry_policy.allowed_methods or ())
        if not idempotent:
            return False
        return status is None or self.retry_policy.is_retry("GET", status)

    # -- auth hooks -------------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a request (override)."""
        return {}

    def refresh_auth(self) -> bool:
        """Get a new token after a 401. Return True if a retry makes sense (override)."""
        return False

    # -- requests ---------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.base_url + "/", path_or_url.lstrip("/"))

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            # The server said when; obey it (capped), plus a little jitter so parallel tasks
            # hitting the same limit don't come back in lockstep.
            return min(self.backoff_cap, retry_after + random.uniform(0, 0.1 * self.backoff_base))
        exp = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(exp / 2, exp)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: Iterable[int] = (200,),
        authenticated: bool = True,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one request (retried only when idempotent); return the response if its status is in ``ok``.

        Args:
            idempotent: whether sending it twice is harmless; default: GET/HEAD/OPTIONS only.
                Writes are never retried here (see the module docstring).

        Raises:
            ApiError: a non-retryable error status, or retries exhausted (``transient=True``).
        """
        ok_statuses = set(ok)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            all_headers = {"Accept": "application/json"}
            if authenticated:
                all_headers.update(self.auth_headers())
            all_headers.update(headers or {})
            # after auth_headers(): a first login may have set the base URL (Salesforce instance)
            url = self.url(path_or_url)
            safe_url = redact_url(url)
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=all_headers,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.max_attempts or not self.may_retry(method, None, idempotent):
                    raise ApiError(
                        f"{self.name}: {method} {safe_url} failed after {attempt} attempts: "
                        f"{type(exc).__name__}"
                        + (
                            ""
                            if self.may_retry(method, None, idempotent)
                            else " (not retried: not idempotent)"
                        ),
                        transient=True,
                    ) from exc
                wait = self.backoff(attempt, None)
                log.warning(
                    "%s: %s %s: %s; retry %s/%s in %.1fs",
                    self.name,
                    method,
                    safe_url,
                    type(exc).__name__,
                    attempt,
                    self.max_attempts - 1,
                    wait,
                )
                self.sleep(wait)
                continue

            self.last_response = response
            status = response.status_code
            if status in ok_statuses:
                log.debug("%s: %s %s -> %s", self.name, method, safe_url, status)
                return response
            if status == 401 and authenticated and not refreshed and self.refresh_auth():
                refreshed = True
                log.info("%s: %s %s -> 401; token refreshed, retrying", self.name, method, safe_url)
                continue
            if (
                status in RETRY_STATUSES
                and attempt < self.max_attempts
                and self.may_retry(method, status, idempotent)
            ):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = self.backoff(attempt, retry_after)
                log.warning(
                    "%s: %s %s -> %s; retry %s/%s in %.1fs%s",
                    self.name,
                    method,
                    safe_url,
                    status,
                    attempt,
                    self.max_attempts - 1,
                    wait,
                    " (Retry-After)" if retry_after is not None else "",
                )
                self.sleep(wait)
                continue
            body = _body(response)
            raise ApiError(
                f"{self.name}: {method} {safe_url} -> HTTP {status}"
                + (f" after {attempt} attempts" if status in RETRY_STATUSES else "")
                + ("" if self.may_retry(method, status, idempotent) else " (not retried: not idempotent)")
                + f": {_short(body)}",
                status=status,
                transient=status in RETRY_STATUSES,
                body=body,
            )

    def get_json(self, path_or_url: str, **kwargs: Any) -> Any:
        """GET and decode JSON (see :meth:`request`)."""
        return decode_json(self.request("GET", path_or_url, **kwargs), self.name)


def decode_json(response: requests.Response, system: str) -> Any:
    """The JSON body, or a SourceError saying what came back instead."""
    try:
        return response.json()
    except ValueError as exc:
        raise SourceError(
            f"{system}: {redact_url(response.url or '')} returned non-JSON content "
            f"({response.headers.get('Content-Type', 'no content type')}): {response.text[:200]!r}"
        ) from exc


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _short(body: Any) -> str:
    text = str(body)
    return text if len(text) <= 300 else text[:300] + "..."


def require_keys(payload: Any, keys: Sequence[str], context: str) -> dict[str, Any]:
    """Check a JSON object has the given keys (the API's envelope); return it.

    Raises:
        SourceError: ``payload`` is not an object, or lacks a key; the message names ``context``.
    """
    if not isinstance(payload, dict):
        raise SourceError(
            f"{context}: expected a JSON object, got {type(payload).__name__}: {_short(payload)}"
        )
    missing = [k for k in keys if k not in payload]
    if missing:
        raise SourceError(f"{context}: response lacks {missing} (got keys {sorted(payload)[:20]})")
    return payload


def check_records(
    records: Sequence[Mapping[str, Any]], fields: Sequence[str], *, obj: str, page: int, key: str = "Id"
) -> None:
    """Check every record on a page carries every field that was asked for.

    APIs return requested-but-empty fields as null; a *missing* key means the API answered a
    different question (wrong field list, truncated page, changed API version).

    Raises:
        SourceError: naming the object, page number, record id and field.
    """
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise SourceError(f"{obj} page {page}: record #{i} is {type(rec).__name__}, not an object")
        for f in fields:
            if f not in rec:
                raise SourceError(
                    f"{obj} page {page}: record {rec.get(key, f'#{i}')!r} lacks requested field {f!r}"
                )


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- time helpers shared by the connectors ---------------------------------------------------


def as_utc(ts: datetime) -> datetime:
    """An aware UTC datetime (naive input is taken as UTC, the convention of the whole project)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def parse_api_datetime(value: Any) -> datetime | None:
    """Parse the date-time forms the APIs return; None if it is not one.

    Accepts ISO 8601 with ``Z``, ``+00:00`` or Salesforce's ``+0000``, with or without
    fractional seconds, and epoch milliseconds (HubSpot's search filters and some payloads).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit() and len(text) >= 12:
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00 (fromisoformat on 3.11 needs the colon)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return as_utc(parsed)


def iso_api(ts: datetime) -> str:
    """The project's canonical API text for a date-time: ``2026-10-05T14:03:00.000+0000``."""
    ts = as_utc(ts)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+0000"
