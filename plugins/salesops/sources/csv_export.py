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
* ``server_time()`` is the newest export time of all matched files.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from salesops.sources.base import DeletedRecord, Page, Record, SourceError, UpdateResult
from salesops.sources.http import as_utc, iso_api, parse_api_datetime

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
}
_OBJECT_KEYS = _SETTING_KEYS | {"file", "columns", "modstamp", "deleted"}
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
}
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


@dataclass
class _File:
    path: Path
    exported_at: datetime
    headers: list[str]


def _as_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str | int | bool) for v in value):
        return [str(v) for v in value]
    raise ColumnMapError(f"{where}: expected a string or a list of strings, got {value!r}")


# Complexity 25 > 20: replaced by the typed policy package of issue 10 (t10-structure); remove the noqa then.
def load_column_map(path: str | Path) -> dict[str, ObjectMap]:  # noqa: C901
    """Read and validate a column map; the result is keyed by api_name.

    Raises:
        ColumnMapError: naming the file, the object and the key that is wrong.
    """
    from salesops.config import object_manifest

    path = Path(path)
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
    manifest = {o.api_name: o for o in object_manifest().values()}

    out: dict[str, ObjectMap] = {}
    for api_name, raw in data["objects"].items():
        where = f"{path.name}: objects.{api_name}"
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
                raise ColumnMapError(
                    f"{where}.columns.{field}: expected the CSV header as text, got {header!r}"
                )
        spec = manifest.get(api_name)
        cursor = spec.cursor if spec else "SystemModstamp"
        columns = {str(k): str(v) for k, v in columns.items()}
        if raw.get("modstamp"):
            if cursor in columns and columns[cursor] != raw["modstamp"]:
                raise ColumnMapError(f"{where}: 'modstamp' and columns.{cursor} name different headers")
            columns[cursor] = str(raw["modstamp"])
        types = {f.api_name: f.type for f in spec.fields} if spec else {}

        s = {**_DEFAULTS, **defaults, **{k: v for k, v in raw.items() if k in _SETTING_KEYS}}
        try:
            tz = ZoneInfo(str(s["timezone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ColumnMapError(f"{where}: unknown timezone {s['timezone']!r}") from exc
        dec, thou = str(s["decimal_separator"]), str(s["thousands_separator"] or "")
        if dec not in {".", ","}:
            raise ColumnMapError(f"{where}: decimal_separator must be '.' or ',', got {dec!r}")
        if thou not in {"", ",", ".", " ", "'"} or thou == dec:
            raise ColumnMapError(
                f"{where}: thousands_separator {thou!r} is not allowed with decimal_separator {dec!r}"
            )
        if len(str(s["delimiter"])) != 1:
            raise ColumnMapError(f"{where}: delimiter must be one character, got {s['delimiter']!r}")
        exported_at = None
        if s["exported_at"] is not None:
            ts = s["exported_at"]
            exported_at = as_utc(ts) if isinstance(ts, datetime) else parse_api_datetime(str(ts))
            if exported_at is None:
                raise ColumnMapError(
                    f"{where}: exported_at {s['exported_at']!r} is not an ISO 8601 date-time"
                )
        trues = {v.casefold() for v in _as_list(s["true_values"], f"{where}.true_values")}
        falses = {v.casefold() for v in _as_list(s["false_values"], f"{where}.false_values")}
        if trues & falses:
            raise ColumnMapError(f"{where}: {sorted(trues & falses)} are both true and false values")
        deleted = raw.get("deleted")
        del_col, del_vals = None, frozenset()
        if deleted is not None:
            if not isinstance(deleted, dict) or not deleted.get("column"):
                raise ColumnMapError(f"{where}.deleted: expected {{column: <header>, values: [...]}}")
            del_col = str(deleted["column"])
            del_vals = frozenset(
                v.casefold()
                for v in _as_list(deleted.get("values", ["true", "yes", "1"]), f"{where}.deleted.values")
            )
        out[api_name] = ObjectMap(
            api_name=api_name,
            file=raw["file"].strip(),
            columns=columns,
            cursor=cursor,
            types=types,
            date_formats=tuple(_as_list(s["date_format"], f"{where}.date_format")),
            datetime_formats=tuple(_as_list(s["datetime_format"], f"{where}.datetime_format")),
            tz=tz,
            decimal_separator=dec,
            thousands_separator=thou,
            true_values=frozenset(trues),
            false_values=frozenset(falses),
            encoding=str(s["encoding"]),
            delimiter=str(s["delimiter"]),
            exported_at=exported_at,
            deleted_column=del_col,
            deleted_values=del_vals,
        )
    return out


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
    if value is None:
        return None
    text = value.strip()
    if text == "":
        return None
    if ftype in ("id", "string"):
        return text
    if ftype == "bool":
        key = text.casefold()
        if key in m.true_values:
            return True
        if key in m.false_values:
            return False
        return value
    if ftype in ("int", "decimal", "double"):
        num = _number(text, m)
        if num is None:
            return value
        if ftype == "int":
            whole, _, frac = num.partition(".")
            if frac.strip("0"):
                return value  # 12.5 employees: let the loader say why it is not an int
            return whole
        return num
    if ftype == "date":
        parsed = _parse_local(text, m.date_formats, m)
        if parsed is None:
            try:
                return date.fromisoformat(text).isoformat()
            except ValueError:
                return value
        return parsed.date().isoformat()
    if ftype == "timestamp":
        parsed = _parse_local(text, m.datetime_formats, m) or _parse_local(text, m.date_formats, m)
        if parsed is not None:
            return iso_api(parsed.replace(tzinfo=m.tz))
        iso = _parse_iso_local(text, m)
        return iso_api(iso) if iso is not None else value
    return text


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

    # -- files ------------------------------------------------------------------------------
    def files(self, api_name: str) -> list[_File]:
        """The export files of one object, in name order, with their export time and headers."""
        m = self.maps.get(api_name)
        if m is None:
            return []
        out = []
        for path in sorted(p for p in self.folder.glob(m.file) if p.is_file()):
            exported = m.exported_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
            with path.open(encoding=m.encoding, newline="") as fh:
                headers = next(csv.reader(fh, delimiter=m.delimiter), [])
            out.append(_File(path, exported, [h.strip() for h in headers]))
        return out

    def _rows(
        self, api_name: str, fields: Sequence[str] | None = None
    ) -> Iterator[tuple[Record, datetime | None, bool, _File]]:
        """(record, cursor instant or None, deleted?, file) for every row of the object's files."""
        m = self.maps.get(api_name)
        if m is None:
            log.info("csv: the column map has no entry for %s; nothing to read", api_name)
            return
        files = self.files(api_name)
        if not files:
            log.warning("csv: no file in %s matches %r for %s", self.folder, m.file, api_name)
            return
        mapped_headers = set(m.columns.values()) | ({m.deleted_column} if m.deleted_column else set())
        for f in files:
            missing = [api for api, h in m.columns.items() if h not in f.headers]
            extra = [h for h in f.headers if h not in mapped_headers]
            if missing and self.missing_headers.get(f.path.name) != missing:
                self.missing_headers[f.path.name] = missing
                log.warning(
                    "csv: %s lacks the mapped headers for %s: %s",
                    f.path.name,
                    api_name,
                    {api: m.columns[api] for api in missing},
                )
            if extra and self.extra_headers.get(f.path.name) != extra:
                self.extra_headers[f.path.name] = extra
                log.info(
                    "csv: %s has unmapped headers, passed through as extra columns: %s", f.path.name, extra
                )
            present = {api: h for api, h in m.columns.items() if h in f.headers}
            if fields is not None:
                wanted = {"Id", m.cursor, *fields}
                present = {api: h for api, h in present.items() if api in wanted}
                extra = []
            cursor_mapped = m.cursor in present
            with f.path.open(encoding=m.encoding, newline="") as fh:
                reader = csv.reader(fh, delimiter=m.delimiter)
                header_row = [h.strip() for h in next(reader, [])]
                index = {h: i for i, h in enumerate(header_row)}
                for line_no, row in enumerate(reader, start=2):
                    if not any(cell.strip() for cell in row):
                        continue  # blank line at the end of an export
                    if len(row) > len(header_row):
                        log.warning(
                            "csv: %s line %s has %s cells for %s headers; extra cells ignored",
                            f.path.name,
                            line_no,
                            len(row),
                            len(header_row),
                        )

                    cells: list[str | None] = [*row, *([None] * (len(header_row) - len(row)))]
                    rec: Record = {
                        api: normalize(cells[index[h]], m.types.get(api, "string"), m)
                        for api, h in present.items()
                    }
                    for h in extra:
                        raw = cells[index[h]]
                        rec[h] = raw if raw is None or raw.strip() else None
                    if not cursor_mapped:
                        rec[m.cursor] = iso_api(f.exported_at)
                    deleted = False
                    if m.deleted_column and m.deleted_column in index:
                        flag = cells[index[m.deleted_column]]
                        deleted = flag is not None and flag.strip().casefold() in m.deleted_values
                    yield rec, parse_api_datetime(rec.get(m.cursor)), deleted, f

    # -- CrmSource --------------------------------------------------------------------------
    def server_time(self) -> datetime:
        times = [f.exported_at for api in self.maps for f in self.files(api)]
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
        for rec, stamp, deleted, f in self._rows(api_name):
            if deleted:
                continue
            when = stamp if stamp is not None else f.exported_at
            if when > hi or (lo is not None and when <= lo):
                continue
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
        for rec, stamp, deleted, f in self._rows(api_name, fields=[]):
            when = stamp if stamp is not None else f.exported_at
            if deleted and rec.get("Id") and when <= hi and (lo is None or when > lo):
                out.append(DeletedRecord(str(rec["Id"]), when))
        return out

    def get_records(self, api_name: str, ids: Sequence[str], fields: Sequence[str]) -> list[Record]:
        wanted = set(ids)
        latest: dict[str, tuple[datetime, Record]] = {}
        for rec, stamp, deleted, f in self._rows(api_name, fields=fields):
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
