"""Any folder of CSV exports + a YAML column map -> the records every other source gives.

Many small companies run on spreadsheet exports from their CRM. This source reads such a folder
and returns the same records (Salesforce-style API field names from include/config/objects.yaml,
values in API text form) as the demo CRM or the Salesforce connector, so the rest of the pipeline
does not know the difference. It is read-only.

Column map format (YAML; a worked example is examples/csv_export/column_map.yaml)::

    defaults:                        # optional; every key can be overridden per object
      encoding: utf-8-sig            # default utf-8-sig (tolerates Excel's byte-order mark)
      delimiter: ","                 # default ","
      date_format: "%d/%m/%Y"        # strptime format, or a list tried in order; ISO is always accepted
      datetime_format: ["%d/%m/%Y %H:%M", "%m/%d/%Y %I:%M %p"]
      timezone: Europe/London        # zone of naive datetimes in the file (default UTC)
      decimal_separator: "."         # "." or ","
      thousands_separator: ","       # "", ",", ".", " " or "'"; must differ from the decimal one
      true_values: [Yes, "TRUE", "1"]   # case-insensitive
      false_values: [No, "FALSE", "0"]
      exported_at: "2026-11-20T07:00:00Z"   # when the export ran (default: the file's mtime)
    objects:
      Opportunity:                   # the object's api_name in objects.yaml
        file: "opportunities*.csv"   # file name or glob, relative to the folder; several files
                                     # are read in name order
        columns:                     # ApiField: "CSV header", exactly as written in the file
          Id: Opportunity ID
          StageName: Stage
          Amount: Amount
          CloseDate: Close Date
          SystemModstamp: Last Modified
        modstamp: Last Modified      # optional shorthand: the header of the object's cursor field
        deleted:                     # optional delete marker
          column: Is Deleted
          values: ["Yes"]

Rules:

* Values are typed by the manifest field type and normalised to API text: dates ``YYYY-MM-DD``,
  datetimes ``YYYY-MM-DDThh:mm:ss.000+0000`` (UTC), numbers with ``.`` and no grouping
  (``"12,500.00"`` -> ``"12500.00"``; a trailing ``%`` and currency symbols are dropped),
  booleans ``True``/``False``, empty cells ``None``. A value that does not parse is passed
  through unchanged, so the loader quarantines that row with a reason: nothing is dropped and
  nothing crashes.
* The cursor (``SystemModstamp``, or the object's cursor in objects.yaml) comes from its mapped
  column. Without one, every row counts as changed at the file's export time (``exported_at``,
  else the file's modification time). ``read_changes`` returns rows with
  ``since < cursor <= until``; a row whose cursor does not parse is returned in the window that
  holds its file's export time (so it is quarantined once, not on every run).
* Headers the map does not mention are passed through as extra columns under their header
  name (the loader reports them as schema drift). Mapped headers missing from a file leave the
  field out of the records (the loader reports the missing field). Objects without an entry or
  without matching files yield nothing, with one log line.
* Each record ``read_changes`` returns carries its origin, ``"<file> line <n>"``, under
  ``ORIGIN_KEY``; the lander keeps it as the raw row's ``_origin`` so a later error (a currency
  without a rate stopping the KPI build) names the file and line.
* ``server_time()`` is the newest export time of all matched files.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from salesops.sources.base import (
    NOTES_KEY,
    ORIGIN_KEY,
    DeletedRecord,
    Page,
    Record,
    SourceError,
    UpdateResult,
)
from salesops.sources.http import as_utc, iso_api, parse_api_datetime

if TYPE_CHECKING:
    from salesops.config import ObjectSpec

log = logging.getLogger(__name__)

_SETTING_KEYS = {
    "encoding",
    "delimiter",
    "date_format",
    "datetime_format",
    "timezone",
    "decimal_separator",
    "thousands_separator",
    "true_values",
    "false_values",
    "exported_at",
    "allow_empty",
    "duplicates",
    "max_field_size",
    "max_quarantine_share",
}
_OBJECT_KEYS = _SETTING_KEYS | {"file", "columns", "modstamp", "deleted", "resolve", "export"}
_RESOLVE_BY = ("Id", "Name", "Email")
_DEFAULTS: dict[str, Any] = {
    "encoding": "utf-8-sig",
    "delimiter": ",",
    "date_format": [],
    "datetime_format": [],
    "timezone": "UTC",
    "decimal_separator": ".",
    "thousands_separator": "",
    "true_values": ["true", "yes", "y", "1"],
    "false_values": ["false", "no", "n", "0"],
    "exported_at": None,
    "allow_empty": False,
    "duplicates": "quarantine",
    "max_field_size": 131072,
    "max_quarantine_share": None,
}
DUPLICATE_POLICIES = ("quarantine", "latest")
# The value a rejected row carries in its cursor field: it cannot parse as a date-time, so the
# loader quarantines the whole row (with this text as the value) instead of loading blanks.
REJECT_PREFIX = "REJECTED: "
_CURRENCY = "$€£¥"
_PAGE_SIZE = 5000


class ColumnMapError(SourceError):
    """The column map is missing, malformed or inconsistent (the message says where)."""


@dataclass(frozen=True)
class ObjectMap:
    """One object's entry of the column map, validated and with defaults applied."""

    api_name: str
    file: str
    columns: dict[str, str]
    cursor: str
    types: dict[str, str]
    date_formats: tuple[str, ...]
    datetime_formats: tuple[str, ...]
    tz: ZoneInfo
    decimal_separator: str
    thousands_separator: str
    true_values: frozenset[str]
    false_values: frozenset[str]
    encoding: str
    delimiter: str
    exported_at: datetime | None
    deleted_column: str | None
    deleted_values: frozenset[str]
    allow_empty: bool = False
    duplicates: str = "quarantine"
    max_field_size: int = 131072
    # field -> (object whose records it references, match on: Id / Name / Email, in order)
    resolve: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    export_full: bool = False
    max_quarantine_share: float | None = None  # `export: full`: every file holds every record of the object


@dataclass
class _Lookup:
    """One object's records for resolving references given by id, name or e-mail."""

    ids: set[str] = dc_field(default_factory=set)
    names: dict[str, set[str]] = dc_field(default_factory=dict)
    emails: dict[str, set[str]] = dc_field(default_factory=dict)

    def find(self, value: str, by: Sequence[str]) -> str | None:
        """The one id ``value`` names (first rule that matches exactly one record), else None."""
        key = value.strip().casefold()
        for rule in by:
            if rule == "Id" and value.strip() in self.ids:
                return value.strip()
            hits = (self.names if rule == "Name" else self.emails if rule == "Email" else {}).get(key)
            if hits and len(hits) == 1:
                return next(iter(hits))
        return None


@dataclass
class _File:
    path: Path
    exported_at: datetime
    headers: list[str]
    rows: int = 0  # data rows (non-blank lines after the header)


def _rejected(why: str) -> str:
    return f"{REJECT_PREFIX}{why}"


def _cell(row: list[str], i: int | None) -> str | None:
    return row[i] if i is not None and i < len(row) and row[i].strip() else None


def _check_bytes(path: Path, m: ObjectMap) -> int:
    """Decode the file line by line; return its data-row count (lines after the header).

    Raises:
        SourceError: a byte sequence that is not valid ``m.encoding``, naming file, line and column.
    """
    data = path.read_bytes()
    if m.encoding.lower().replace("_", "-") in ("utf-8-sig",) and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    rows = 0
    for line_no, raw in enumerate(data.splitlines(), start=1):
        try:
            text = raw.decode(m.encoding.replace("-sig", "") if m.encoding.endswith("-sig") else m.encoding)
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"csv {m.api_name}: {path.name} line {line_no} column {exc.start + 1} (byte offset in the "
                f"line): {raw[exc.start : exc.start + 4]!r} is not valid {m.encoding}; set 'encoding:' "
                "in the column map to the export's encoding"
            ) from exc
        if line_no > 1 and text.strip():
            rows += 1
    return rows


def _as_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str | int | bool) for v in value):
        return [str(v) for v in value]
    raise ColumnMapError(f"{where}: expected a string or a list of strings, got {value!r}")


def _read_column_map(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The column map's YAML (checked top-level shape) and its ``defaults``."""
    if not path.is_file():
        raise ColumnMapError(f"column map not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ColumnMapError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("objects"), dict) or not data["objects"]:
        raise ColumnMapError(f"{path.name}: expected a mapping with a non-empty 'objects' mapping")
    unknown_top = set(data) - {"defaults", "objects", "version"}
    if unknown_top:
        raise ColumnMapError(f"{path.name}: unknown top-level keys {sorted(unknown_top)}")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ColumnMapError(f"{path.name}: 'defaults' must be a mapping")
    bad = set(defaults) - _SETTING_KEYS
    if bad:
        raise ColumnMapError(
            f"{path.name}: defaults: unknown keys {sorted(bad)} (allowed: {sorted(_SETTING_KEYS)})"
        )
    return data, defaults


def _object_columns(raw: Any, where: str, cursor: str) -> dict[str, str]:
    """An object entry's shape and its ApiField -> CSV header map (``modstamp`` names the cursor)."""
    if not isinstance(raw, dict):
        raise ColumnMapError(f"{where}: expected a mapping")
    bad = set(raw) - _OBJECT_KEYS
    if bad:
        raise ColumnMapError(f"{where}: unknown keys {sorted(bad)} (allowed: {sorted(_OBJECT_KEYS)})")
    if not isinstance(raw.get("file"), str) or not raw["file"].strip():
        raise ColumnMapError(f"{where}: missing 'file' (a file name or glob relative to the folder)")
    columns = raw.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise ColumnMapError(f"{where}: missing 'columns' (a mapping ApiField: \"CSV header\")")
    for field, header in columns.items():
        if not isinstance(header, str) or not header.strip():
            raise ColumnMapError(f"{where}.columns.{field}: expected the CSV header as text, got {header!r}")
    columns = {str(k): str(v) for k, v in columns.items()}
    if raw.get("modstamp"):
        if cursor in columns and columns[cursor] != raw["modstamp"]:
            raise ColumnMapError(f"{where}: 'modstamp' and columns.{cursor} name different headers")
        columns[cursor] = str(raw["modstamp"])
    return columns


def _number_format(s: dict[str, Any], where: str) -> tuple[str, str]:
    """(decimal separator, thousands separator), checked against each other."""
    dec, thou = str(s["decimal_separator"]), str(s["thousands_separator"] or "")
    if dec not in {".", ","}:
        raise ColumnMapError(f"{where}: decimal_separator must be '.' or ',', got {dec!r}")
    if thou not in {"", ",", ".", " ", "'"} or thou == dec:
        raise ColumnMapError(
            f"{where}: thousands_separator {thou!r} is not allowed with decimal_separator {dec!r}"
        )
    return dec, thou


def _exported_at(s: dict[str, Any], where: str) -> datetime | None:
    if s["exported_at"] is None:
        return None
    ts = s["exported_at"]
    exported_at = as_utc(ts) if isinstance(ts, datetime) else parse_api_datetime(str(ts))
    if exported_at is None:
        raise ColumnMapError(f"{where}: exported_at {s['exported_at']!r} is not an ISO 8601 date-time")
    return exported_at


def _booleans(s: dict[str, Any], where: str) -> tuple[frozenset[str], frozenset[str]]:
    trues = {v.casefold() for v in _as_list(s["true_values"], f"{where}.true_values")}
    falses = {v.casefold() for v in _as_list(s["false_values"], f"{where}.false_values")}
    if trues & falses:
        raise ColumnMapError(f"{where}: {sorted(trues & falses)} are both true and false values")
    return frozenset(trues), frozenset(falses)


def _deleted_marker(deleted: Any, where: str) -> tuple[str | None, frozenset[str]]:
    """(column, values) marking a deleted record, or (None, empty) when the map declares none."""
    if deleted is None:
        return None, frozenset()
    if not isinstance(deleted, dict) or not deleted.get("column"):
        raise ColumnMapError(f"{where}.deleted: expected {{column: <header>, values: [...]}}")
    values = _as_list(deleted.get("values", ["true", "yes", "1"]), f"{where}.deleted.values")
    return str(deleted["column"]), frozenset(v.casefold() for v in values)


def _object_map(
    api_name: str,
    raw: Any,
    where: str,
    defaults: dict[str, Any],
    spec: ObjectSpec | None,
    objects: dict[str, Any],
) -> ObjectMap:
    """One validated object entry of the column map."""
    cursor = spec.cursor if spec else "SystemModstamp"
    columns = _object_columns(raw, where, cursor)
    s = {**_DEFAULTS, **defaults, **{k: v for k, v in raw.items() if k in _SETTING_KEYS}}
    try:
        tz = ZoneInfo(str(s["timezone"]))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ColumnMapError(f"{where}: unknown timezone {s['timezone']!r}") from exc
    dec, thou = _number_format(s, where)
    if len(str(s["delimiter"])) != 1:
        raise ColumnMapError(f"{where}: delimiter must be one character, got {s['delimiter']!r}")
    exported_at = _exported_at(s, where)
    trues, falses = _booleans(s, where)
    del_col, del_vals = _deleted_marker(raw.get("deleted"), where)
    resolve = _parse_resolve(raw.get("resolve"), where, columns, objects)
    export = raw.get("export", "incremental")
    if export not in ("full", "incremental"):
        raise ColumnMapError(f"{where}.export: expected 'full' or 'incremental', got {export!r}")
    return ObjectMap(
        api_name=api_name,
        file=raw["file"].strip(),
        columns=columns,
        cursor=cursor,
        types={f.api_name: f.type for f in spec.fields} if spec else {},
        date_formats=tuple(_as_list(s["date_format"], f"{where}.date_format")),
        datetime_formats=tuple(_as_list(s["datetime_format"], f"{where}.datetime_format")),
        tz=tz,
        decimal_separator=dec,
        thousands_separator=thou,
        true_values=trues,
        false_values=falses,
        encoding=str(s["encoding"]),
        delimiter=str(s["delimiter"]),
        exported_at=exported_at,
        deleted_column=del_col,
        deleted_values=del_vals,
        allow_empty=bool(s["allow_empty"]),
        duplicates=_duplicates_policy(s["duplicates"], where),
        max_field_size=_positive_int(s["max_field_size"], f"{where}.max_field_size"),
        resolve=resolve,
        export_full=export == "full",
        max_quarantine_share=_share(s["max_quarantine_share"], where),
    )


def load_column_map(path: str | Path) -> dict[str, ObjectMap]:
    """Read and validate a column map; the result is keyed by api_name.

    Raises:
        ColumnMapError: naming the file, the object and the key that is wrong.
    """
    from salesops.config import object_manifest

    path = Path(path)
    data, defaults = _read_column_map(path)
    manifest = {o.api_name: o for o in object_manifest().values()}
    return {
        api_name: _object_map(
            api_name,
            raw,
            f"{path.name}: objects.{api_name}",
            defaults,
            manifest.get(api_name),
            data["objects"],
        )
        for api_name, raw in data["objects"].items()
    }


def _duplicates_policy(value: Any, where: str) -> str:
    if value not in DUPLICATE_POLICIES:
        raise ColumnMapError(f"{where}: duplicates must be one of {DUPLICATE_POLICIES}, got {value!r}")
    return str(value)


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ColumnMapError(f"{where}: expected a positive whole number of characters, got {value!r}")
    return value


def _share(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ColumnMapError(f"{where}: max_quarantine_share must be a share between 0 and 1, got {value!r}")
    return float(value)


def _swap_day_month(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


class DateFormatError(ColumnMapError):
    """A date column contradicts the declared format (day and month swapped, or mixed formats)."""


def check_date_formats(
    m: ObjectMap, path: Path, headers: dict[str, str], rows: Iterable[list[str]], index: dict[str, int]
) -> None:
    """Fail when a date/datetime column's values contradict the declared formats (one pass).

    A value that does not parse with the declared format but does with day and month swapped
    (``11/25/2026`` under ``%d/%m/%Y``) means every ambiguous value (``11/05/2026``) would load
    with day and month swapped. A column whose values need two formats that are each other's
    day/month swap is mixed. Both raise :class:`DateFormatError` with examples.
    """
    columns = []
    for api, header in headers.items():
        ftype = m.types.get(api)
        if ftype not in ("date", "timestamp") or header not in index:
            continue
        declared = list(m.date_formats if ftype == "date" else (*m.datetime_formats, *m.date_formats))
        swapped = [_swap_day_month(f) for f in declared if _swap_day_month(f) != f]
        if declared and swapped:
            columns.append((api, header, index[header], declared, swapped, [], {}))
    if not columns:
        return
    for row in rows:
        for _api, _header, i, declared, swapped, contradicting, used in columns:
            text = row[i].strip() if i < len(row) and row[i] else ""
            if not text:
                continue
            hits = [f for f in declared if _parse_local(text, [f], m) is not None]
            if len(hits) == 1:
                used.setdefault(hits[0], []).append(text)
            elif not hits and any(_parse_local(text, [f], m) is not None for f in swapped):
                contradicting.append(text)
    for api, header, _i, declared, _swapped, contradicting, used in columns:
        where = f"{path.name}: column {header!r} ({m.api_name}.{api})"
        if contradicting:
            raise DateFormatError(
                f"{where}: {len(contradicting)} values contradict the declared format {declared[0]!r} "
                f"(e.g. {', '.join(repr(v) for v in contradicting[:3])}: day and month are swapped); the "
                f"column looks like {_swap_day_month(declared[0])!r}. Fix date_format/datetime_format in "
                f"the column map: every ambiguous value such as 03/04/2026 would otherwise load with day "
                f"and month swapped"
            )
        for a in used:
            b = _swap_day_month(a)
            if b != a and b in used:
                raise DateFormatError(
                    f"{where} mixes {a!r} (e.g. {used[a][0]!r}) and {b!r} (e.g. {used[b][0]!r}): day and "
                    f"month order cannot be told for values such as 03/04/2026; export the column in one format"
                )


def _parse_resolve(
    raw: Any, where: str, columns: dict[str, str], objects: dict[str, Any]
) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """``resolve: {OwnerId: {object: User, by: [Id, Name, Email]}}`` -> validated tuples."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ColumnMapError(f"{where}.resolve: expected a mapping Field: {{object: User, by: [Id, Name]}}")
    out = []
    for fld, spec in raw.items():
        w = f"{where}.resolve.{fld}"
        if fld not in columns:
            raise ColumnMapError(f"{w}: {fld} is not mapped in columns")
        if not isinstance(spec, dict) or not spec.get("object"):
            raise ColumnMapError(f"{w}: expected {{object: <ApiName>, by: [Id, Name, Email]}}")
        target = str(spec["object"])
        if target not in objects:
            raise ColumnMapError(f"{w}: object {target!r} has no entry in this column map")
        by = tuple(_as_list(spec.get("by", list(_RESOLVE_BY)), f"{w}.by"))
        bad = [b for b in by if b not in _RESOLVE_BY]
        if bad or not by:
            raise ColumnMapError(f"{w}.by: {bad or by} not allowed; use some of {list(_RESOLVE_BY)}")
        out.append((str(fld), target, by))
    return tuple(out)


# -- value normalisation -----------------------------------------------------------------------


def _number(text: str, m: ObjectMap) -> str | None:
    """Normalised number text, or None if ``text`` is not a number in this export's notation."""
    t = text.strip().replace("\u00a0", " ")
    t = t.strip(_CURRENCY).strip()
    if t.endswith("%"):
        t = t[:-1].strip()
    neg = t.startswith("(") and t.endswith(")")  # accounting negatives: (1,200.00)
    if neg:
        t = t[1:-1]
    dec, thou = re.escape(m.decimal_separator), re.escape(m.thousands_separator)
    grouped = rf"^[+-]?\d{{1,3}}({thou}\d{{3}})+({dec}\d+)?$" if thou else None
    plain = rf"^[+-]?\d+({dec}\d+)?$|^[+-]?{dec}\d+$"
    if re.match(plain, t):
        pass
    elif grouped and re.match(grouped, t):
        t = t.replace(m.thousands_separator, "")
    else:
        return None
    t = t.replace(m.decimal_separator, ".")
    if t.startswith("."):
        t = "0" + t
    return ("-" + t.lstrip("+")) if neg else t


def _parse_local(text: str, formats: Sequence[str], m: ObjectMap) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def normalize(value: str | None, ftype: str, m: ObjectMap) -> Any:
    """One CSV cell -> API text form for a manifest type; unparseable values come back unchanged."""
    return normalize_cell(value, ftype, m)[0]


def normalize_cell(value: str | None, ftype: str, m: ObjectMap) -> tuple[Any, str | None]:
    """One CSV cell -> (API text form, None), or (the cell unchanged, what the map expected) when
    it does not parse as ``ftype`` in this export's notation (the quarantine reason's end)."""
    if value is None:
        return None, None
    text = value.strip()
    if text == "":
        return None, None
    if ftype in ("id", "string"):
        return text, None
    if ftype == "bool":
        key = text.casefold()
        if key in m.true_values:
            return True, None
        if key in m.false_values:
            return False, None
        return value, f"one of true_values {sorted(m.true_values)} or false_values {sorted(m.false_values)}"
    if ftype in ("int", "decimal", "double"):
        notation = f"decimal separator {m.decimal_separator!r}" + (
            f", thousands separator {m.thousands_separator!r}" if m.thousands_separator else ""
        )
        num = _number(text, m)
        if num is None:
            return value, f"a number ({notation})"
        if ftype == "int":
            whole, _, frac = num.partition(".")
            if frac.strip("0"):
                return value, f"a whole number ({notation})"
            return whole, None
        return num, None
    if ftype == "date":
        parsed = _parse_local(text, m.date_formats, m)
        if parsed is None:
            try:
                return date.fromisoformat(text).isoformat(), None
            except ValueError:
                return value, (
                    f"a date in date_formats {list(m.date_formats)} or YYYY-MM-DD"
                    if m.date_formats
                    else "a date as YYYY-MM-DD (the column map sets no date_formats)"
                )
        return parsed.date().isoformat(), None
    if ftype == "timestamp":
        parsed = _parse_local(text, m.datetime_formats, m) or _parse_local(text, m.date_formats, m)
        if parsed is not None:
            return iso_api(parsed.replace(tzinfo=m.tz)), None
        iso = _parse_iso_local(text, m)
        if iso is not None:
            return iso_api(iso), None
        declared = [
            f"{k} {list(v)}"
            for k, v in (("datetime_formats", m.datetime_formats), ("date_formats", m.date_formats))
            if v
        ]
        if not declared:
            return (
                value,
                "an ISO 8601 date-time such as 2026-11-01T10:00:00Z (the column map sets no datetime_formats)",
            )
        return value, f"a date-time in {' or '.join(declared)}, or ISO 8601 such as 2026-11-01T10:00:00Z"
    return text, None


def _parse_iso_local(text: str, m: ObjectMap) -> datetime | None:
    """ISO 8601 in the file: with an offset it is absolute, without one it is in the file's zone."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return parse_api_datetime(text)
    return parsed.replace(tzinfo=m.tz) if parsed.tzinfo is None else parsed


# -- the source --------------------------------------------------------------------------------


class CsvExportSource:
    """:class:`~salesops.sources.base.CrmSource` over a folder of CSV exports (read-only).

    Args:
        folder: the export folder.
        column_map_path: the YAML column map (default: ``column_map.yaml`` in the folder).
        page_size: records per page.

    Raises:
        ColumnMapError: the folder or map is missing or the map is invalid.
    """

    name = "csv"

    @classmethod
    def from_options(
        cls, *, folder: str | Path, column_map: str | Path | None = None, page_size: int = _PAGE_SIZE
    ) -> CsvExportSource:
        """Build from the source registry's keyword arguments (``folder``, ``column_map``)."""
        return cls(folder, column_map, page_size=page_size)

    def __init__(
        self, folder: str | Path, column_map_path: str | Path | None = None, *, page_size: int = _PAGE_SIZE
    ):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ColumnMapError(f"CSV export folder not found: {self.folder}")
        self.column_map_path = Path(column_map_path) if column_map_path else self.folder / "column_map.yaml"
        self.maps = load_column_map(self.column_map_path)
        self.page_size = page_size
        self.missing_headers: dict[str, list[str]] = {}
        self.extra_headers: dict[str, list[str]] = {}
        self._dropped: dict[str, dict[tuple[str, str], int]] = {}
        self._lookups: dict[str, _Lookup] = {}
        self._checked_files: set[Path] = set()
        # (object, field) -> exported value -> rows whose reference matched no record
        self.unresolved: dict[tuple[str, str], dict[str, int]] = {}

    def field_labels(self, api_name: str) -> dict[str, str]:
        """API field -> the export's own column header (the loader keeps them in ops.field_label,
        so exception messages name a field the way the customer's export does)."""
        m = self.maps.get(api_name)
        return dict(m.columns) if m else {}

    # -- files ------------------------------------------------------------------------------
    def files(self, api_name: str) -> list[_File]:
        """The export files of one object, in name order, with their export time and headers."""
        m = self.maps.get(api_name)
        if m is None:
            return []
        out = []
        for path in sorted(p for p in self.folder.glob(m.file) if p.is_file()):
            rows = _check_bytes(path, m)
            exported = m.exported_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
            with path.open(encoding=m.encoding, newline="") as fh:
                headers = next(csv.reader(fh, delimiter=m.delimiter), [])
            if rows == 0 and not m.allow_empty:
                raise SourceError(
                    f"csv {api_name}: {path.name} has no data rows ({'0 bytes' if not headers else 'header only'}); "
                    "an empty export is an error (a failed export would otherwise look like 'nothing "
                    "changed'). Set allow_empty: true for the object in the column map if it can be empty"
                )
            out.append(_File(path, exported, [h.strip() for h in headers], rows))
        if m.exported_at is None and m.cursor in m.columns:
            # Default export time: the latest change stamp in the files, not the file's mtime (a
            # copy or a restore moves the mtime; the data does not).
            latest = self._latest_stamp(api_name, out)
            if latest is not None:
                out = [_File(f.path, latest, f.headers, f.rows) for f in out]
        return out

    def _check_file_dates(self, m: ObjectMap, f: _File, present: dict[str, str]) -> None:
        with f.path.open(encoding=m.encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=m.delimiter)
            header_row = [h.strip() for h in next(reader, [])]
            check_date_formats(m, f.path, present, reader, {h: i for i, h in enumerate(header_row)})
        self._checked_files.add(f.path)

    @property
    def max_quarantine_share(self) -> float | None:
        """The column map's ``max_quarantine_share`` (defaults or any object), for the loader."""
        shares = [m.max_quarantine_share for m in self.maps.values() if m.max_quarantine_share is not None]
        return max(shares) if shares else None

    def _lookup(self, api_name: str) -> _Lookup:
        """Ids of an object's records by id, by name and by e-mail (case-insensitive)."""
        if api_name not in self._lookups:
            lk = _Lookup()
            for rec, _stamp, deleted, _f, _ in self._rows(api_name, fields=["Name", "Email"], resolve=False):
                rid = rec.get("Id")
                if deleted or not rid:
                    continue
                lk.ids.add(str(rid))
                for key, index in (("Name", lk.names), ("Email", lk.emails)):
                    if rec.get(key):
                        index.setdefault(str(rec[key]).strip().casefold(), set()).add(str(rid))
            self._lookups[api_name] = lk
        return self._lookups[api_name]

    def _resolve(self, m: ObjectMap, rec: Record) -> None:
        for fld, target, by in m.resolve:
            value = rec.get(fld)
            if value is None or value == "":
                continue
            rid = self._lookup(target).find(str(value), by)
            if rid is None:
                counts = self.unresolved.setdefault((m.api_name, fld), {})
                counts[str(value)] = counts.get(str(value), 0) + 1
            else:
                rec[fld] = rid

    def _latest_stamp(self, api_name: str, files: list[_File]) -> datetime | None:
        stamps = [
            stamp
            for _, stamp, _, _, _ in self._rows(api_name, fields=[], files=files, check=False, resolve=False)
            if stamp is not None
        ]
        return max(stamps) if stamps else None

    def _rows(
        self,
        api_name: str,
        fields: Sequence[str] | None = None,
        *,
        files: list[_File] | None = None,
        check: bool = True,
        resolve: bool = True,
    ) -> Iterator[tuple[Record, datetime | None, bool, _File, int]]:
        """(record, cursor instant or None, deleted?, file, line) for every row of the object's files.

        A row with the wrong number of cells, or sharing its Id with another row of the same file
        (unless the map says ``duplicates: latest``), is *rejected*: its cursor carries
        ``REJECTED: <why>`` so the loader quarantines it whole - never loaded with blanks.

        Raises:
            SourceError: a malformed file (CSV syntax, a cell over ``max_field_size``), or a row
                stamped after the declared ``exported_at``; the message names file, line, column.
        """
        m = self.maps.get(api_name)
        if m is None:
            log.info("csv: the column map has no entry for %s; nothing to read", api_name)
            return
        files = self.files(api_name) if files is None else files
        if not files:
            log.warning("csv: no file in %s matches %r for %s", self.folder, m.file, api_name)
            return
        for f in files:
            present, extra = self._columns(m, f, fields)
            rows = list(self._parse_file(m, f, present, extra, check, resolve))
            yield from self._resolve_duplicates(m, f, rows)

    def _columns(
        self, m: ObjectMap, f: _File, fields: Sequence[str] | None
    ) -> tuple[dict[str, str], list[str]]:
        mapped_headers = set(m.columns.values()) | ({m.deleted_column} if m.deleted_column else set())
        missing = [api for api, h in m.columns.items() if h not in f.headers]
        extra = [h for h in f.headers if h not in mapped_headers]
        if missing and self.missing_headers.get(f.path.name) != missing:
            self.missing_headers[f.path.name] = missing
            log.warning(
                "csv: %s lacks the mapped headers for %s: %s",
                f.path.name,
                m.api_name,
                {api: m.columns[api] for api in missing},
            )
        if extra and self.extra_headers.get(f.path.name) != extra:
            self.extra_headers[f.path.name] = extra
            log.info("csv: %s has unmapped headers, passed through as extra columns: %s", f.path.name, extra)
        for api in ("Id", m.cursor):
            if api in missing and api in m.columns:
                raise ColumnMapError(
                    f"{f.path.name}: the column map's {m.api_name}.{api} header {m.columns[api]!r} is not in "
                    f"the file (its headers: {f.headers})"
                )
        present = {api: h for api, h in m.columns.items() if h in f.headers}
        if f.path not in self._checked_files:
            self._check_file_dates(m, f, present)
        if fields is not None:
            wanted = {"Id", m.cursor, *fields}
            present = {api: h for api, h in present.items() if api in wanted}
            extra = []
        return present, extra

    def _parse_file(
        self,
        m: ObjectMap,
        f: _File,
        present: dict[str, str],
        extra: list[str],
        check: bool,
        resolve: bool = True,
    ) -> Iterator[tuple[Record, datetime | None, bool, _File, int]]:
        cursor_mapped = m.cursor in present
        old_limit = csv.field_size_limit()
        csv.field_size_limit(max(old_limit, m.max_field_size + 1, 2**31 - 1))
        try:
            with f.path.open(encoding=m.encoding, newline="") as fh:
                reader = csv.reader(fh, delimiter=m.delimiter)
                header_row = [h.strip() for h in next(reader, [])]
                index = {h: i for i, h in enumerate(header_row)}
                while True:
                    try:
                        row = next(reader)
                    except StopIteration:
                        break
                    except csv.Error as exc:
                        raise SourceError(
                            f"csv {m.api_name}: {f.path.name} line {reader.line_num}: malformed CSV ({exc})"
                        ) from exc
                    line_no = reader.line_num
                    if not any(cell.strip() for cell in row):
                        continue  # blank line at the end of an export
                    for i, cell in enumerate(row):
                        if len(cell) > m.max_field_size:
                            col = header_row[i] if i < len(header_row) else f"#{i + 1}"
                            raise SourceError(
                                f"csv {m.api_name}: {f.path.name} line {line_no} column {col!r}: "
                                f"{len(cell)} characters, over max_field_size {m.max_field_size} "
                                "(raise it in the column map if the data is right)"
                            )
                    if len(row) != len(header_row):
                        why = (
                            f"{f.path.name} line {line_no} has {len(row)} cells for {len(header_row)} "
                            "headers (truncated or shifted row)"
                        )
                        rejected: Record = {api: None for api in present} | {
                            "Id": _cell(row, index.get(present.get("Id", "")))
                        }
                        rejected[m.cursor] = _rejected(why)
                        yield rejected, None, False, f, line_no
                        continue
                    rec = self._typed_record(m, f, row, index, present, line_no)
                    for h in extra:
                        raw = row[index[h]]
                        rec[h] = raw if raw.strip() else None
                    if resolve and m.resolve:
                        self._resolve(m, rec)
                    if not cursor_mapped:
                        rec[m.cursor] = iso_api(f.exported_at)
                    stamp = parse_api_datetime(rec.get(m.cursor))
                    if check and m.exported_at is not None and stamp is not None and stamp > m.exported_at:
                        raise SourceError(
                            f"csv {m.api_name}: {f.path.name} line {line_no} column {m.columns.get(m.cursor)!r}: "
                            f"changed at {stamp.isoformat()}, after the declared exported_at "
                            f"{m.exported_at.isoformat()}; the row would never be loaded. Fix exported_at "
                            "(or leave it out: it defaults to the latest change stamp in the files)"
                        )
                    deleted = False
                    if m.deleted_column and m.deleted_column in index:
                        flag = row[index[m.deleted_column]]
                        deleted = flag.strip().casefold() in m.deleted_values
                    yield rec, stamp, deleted, f, line_no
        except UnicodeDecodeError as exc:  # _check_bytes normally names the line first
            raise SourceError(f"csv {m.api_name}: {f.path.name}: not valid {m.encoding}: {exc}") from exc
        finally:
            csv.field_size_limit(old_limit)

    def _typed_record(
        self,
        m: ObjectMap,
        f: _File,
        row: list[str],
        index: dict[str, int],
        present: dict[str, str],
        line_no: int,
    ) -> Record:
        """The row's mapped cells in API text form. A cell that does not parse in the map's
        notation stays as it was (the loader quarantines the row) and the record's ``_notes``
        say why: file, line, column, value and the expected format (the quarantine reason)."""
        rec: Record = {}
        notes: dict[str, str] = {}
        for api, h in present.items():
            cell = row[index[h]]
            rec[api], expected = normalize_cell(cell, m.types.get(api, "string"), m)
            if expected is not None:
                notes[api] = (
                    f"{f.path.name} line {line_no} column {h!r}: cannot parse {cell.strip()[:80]!r} as "
                    f"{m.types.get(api)}: expected {expected}"
                )
            elif rec[api] is None and api in ("Id", m.cursor):
                notes[api] = f"{f.path.name} line {line_no} column {h!r}: empty, but {api} is required"
        if notes:
            rec[NOTES_KEY] = notes
        return rec

    def _resolve_duplicates(
        self, m: ObjectMap, f: _File, rows: list[tuple[Record, datetime | None, bool, _File, int]]
    ) -> Iterator[tuple[Record, datetime | None, bool, _File, int]]:
        """Rows sharing an Id in one file: all rejected, or (``duplicates: latest``) the latest kept."""
        lines: dict[str, list[int]] = {}
        for i, (rec, _, _, _, _) in enumerate(rows):
            if rec.get("Id"):
                lines.setdefault(str(rec["Id"]), []).append(i)
        dupes = {rid: idx for rid, idx in lines.items() if len(idx) > 1}
        drop: set[int] = set()
        for rid, idx in dupes.items():
            where = ", ".join(str(rows[i][4]) for i in idx)
            if m.duplicates == "latest":
                keep = max(
                    idx,
                    key=lambda i: (rows[i][1] is not None, rows[i][1] or datetime.min.replace(tzinfo=UTC), i),
                )
                drop |= set(idx) - {keep}
                self._dropped.setdefault(m.api_name, {})[(f.path.name, rid)] = len(idx) - 1
                log.warning(
                    "csv: %s Id %s on lines %s: the latest stamp wins (duplicates: latest)",
                    f.path.name,
                    rid,
                    where,
                )
            else:
                for i in idx:
                    rows[i][0][m.cursor] = _rejected(f"{f.path.name}: Id {rid} appears on lines {where}")
                    rows[i] = (rows[i][0], None, rows[i][2], rows[i][3], rows[i][4])
        for i, (rec, stamp, deleted, file, line_no) in enumerate(rows):
            if i not in drop:
                yield rec, stamp, deleted, file, line_no

    # -- CrmSource --------------------------------------------------------------------------
    @property
    def duplicates_dropped(self) -> dict[str, int]:
        """api_name -> older duplicate rows not loaded (``duplicates: latest``), for the audit."""
        return {api: sum(d.values()) for api, d in self._dropped.items()}

    def server_time_for(self, api_name: str) -> datetime:
        """The export time of one object's files (the extract window's end for that object).

        Empty files (only where ``allow_empty``) do not count: an empty export never moves the
        object's watermark. Only this object's files are read, so a bad file of another object
        never blocks this one.
        """
        times = [f.exported_at for f in self.files(api_name) if f.rows]
        return max(times) if times else datetime(1970, 1, 1, tzinfo=UTC)

    def server_time(self) -> datetime:
        times = []
        for api in self.maps:
            try:
                times += [f.exported_at for f in self.files(api) if f.rows]
            except SourceError as exc:  # that object's load fails with this message; others go on
                log.warning("csv: %s", exc)
        if not times:
            raise SourceError(
                f"no CSV export in {self.folder} matches the column map {self.column_map_path.name}"
            )
        return max(times)

    def read_changes(
        self, api_name: str, fields: Sequence[str], cursor: str, since: datetime | None, until: datetime
    ) -> Iterator[Page]:
        m = self.maps.get(api_name)
        if m is not None and cursor != m.cursor:
            raise SourceError(
                f"csv {api_name}: asked for cursor {cursor!r}, the map's cursor is {m.cursor!r}"
            )
        lo = None if since is None else as_utc(since)
        hi = as_utc(until)
        page: list[Record] = []
        for rec, stamp, deleted, f, line_no in self._rows(api_name):
            if deleted:
                continue
            when = stamp if stamp is not None else f.exported_at
            if when > hi or (lo is not None and when <= lo):
                continue
            rec[ORIGIN_KEY] = f"{f.path.name} line {line_no}"
            page.append(rec)
            if len(page) >= self.page_size:
                yield page
                page = []
        if page:
            yield page

    def read_deleted(self, api_name: str, since: datetime | None, until: datetime) -> list[DeletedRecord]:
        m = self.maps.get(api_name)
        if m is None or m.deleted_column is None:
            return []
        lo = None if since is None else as_utc(since)
        hi = as_utc(until)
        out = []
        for rec, stamp, deleted, f, _ in self._rows(api_name, fields=[]):
            when = stamp if stamp is not None else f.exported_at
            if deleted and rec.get("Id") and when <= hi and (lo is None or when > lo):
                out.append(DeletedRecord(str(rec["Id"]), when))
        return out

    def full_export_ids(self, api_name: str) -> set[str] | None:
        """Every id in an ``export: full`` object's files (None for incremental exports): ids the
        warehouse holds and the newest full export lacks were deleted in the CRM."""
        m = self.maps.get(api_name)
        if m is None or not m.export_full or not self.files(api_name):
            return None
        return {
            str(rec["Id"])
            for rec, _stamp, deleted, _f, _ in self._rows(api_name, fields=[], resolve=False)
            if rec.get("Id") and not deleted
        }

    def get_records(self, api_name: str, ids: Sequence[str], fields: Sequence[str]) -> list[Record]:
        wanted = set(ids)
        latest: dict[str, tuple[datetime, Record]] = {}
        for rec, stamp, deleted, f, _ in self._rows(api_name, fields=fields):
            rid = rec.get("Id")
            if rid not in wanted:
                continue
            when = stamp if stamp is not None else f.exported_at
            if deleted:
                latest.pop(rid, None)
            elif rid not in latest or when >= latest[rid][0]:
                latest[rid] = (when, {k: v for k, v in rec.items() if k in {"Id", *fields}})
        return [latest[i][1] for i in ids if i in latest]

    def update_records(self, api_name: str, updates: Sequence[Record]) -> list[UpdateResult]:
        raise NotImplementedError(
            "CSV exports are read-only: apply bulk updates in the CRM the export came from"
        )
