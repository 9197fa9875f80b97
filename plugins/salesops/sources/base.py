"""The interface every source implements (demo CRM, CSV exports, Salesforce, HubSpot, Marketo).

Records use the Salesforce-style field names of include/config/objects.yaml, with values as the
API returns them in JSON: strings, numbers, booleans or None; dates as ``YYYY-MM-DD``, date-times
as ISO 8601 (``2026-10-05T14:03:00.000+0000`` or ``...Z``). The load job types them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa  # noqa: TC002  (used in a type alias at runtime)

Record = dict[str, Any]
# A page is either a list of records (API sources) or an Arrow table with the same columns
# (bulk sources such as the demo CRM). The lander accepts both.
Page = list[Record] | pa.Table
# Optional key of a record: {field: why its value cannot be typed}, written by a source that knows
# more than the loader (a CSV export: file, line, column, the map's expected format). The lander
# moves it out of the record; the loader uses it as the quarantine reason of that field.
NOTES_KEY = "_notes"
# Optional key of a record: where it came from ("<file> line <n>", a CSV export). The lander moves
# it out of the record into the landed page's ``_origin`` column; the loader keeps it in the raw
# table's ``_origin``, so a later error (a currency without a rate stopping the KPI build) names
# the file and line, not only the load batch.
ORIGIN_KEY = "_origin"


@dataclass(frozen=True)
class DeletedRecord:
    id: str
    deleted_at: datetime


@dataclass
class UpdateResult:
    """Per-record outcome of a write, as Salesforce's composite/sObject Collections returns it."""

    id: str
    success: bool
    errors: list[str] = field(default_factory=list)
    transient: bool = False  # retryable (rate limit, lock contention, 5xx)


class SourceError(RuntimeError):
    """The source answered, but not with what was asked (bad page, missing fields, auth)."""


@runtime_checkable
class CrmSource(Protocol):
    """What the extract and bulk-update jobs need from a source system."""

    name: str

    def server_time(self) -> datetime:
        """The source's clock now (UTC). Extracts read changes up to this instant."""
        ...

    def read_changes(
        self, api_name: str, fields: Sequence[str], cursor: str, since: datetime | None, until: datetime
    ) -> Iterator[Page]:
        """Records with ``since < cursor <= until`` (all when since is None), in pages."""
        ...

    def read_deleted(self, api_name: str, since: datetime | None, until: datetime) -> list[DeletedRecord]:
        """Records deleted in ``(since, until]``."""
        ...

    def get_records(self, api_name: str, ids: Sequence[str], fields: Sequence[str]) -> list[Record]:
        """Current values of the given records (for drift checks and post-validation)."""
        ...

    def update_records(self, api_name: str, updates: Sequence[Record]) -> list[UpdateResult]:
        """Apply field updates; each update is ``{"Id": ..., field: value}``. One result per update."""
        ...
