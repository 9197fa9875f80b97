"""``python -m salesops profile``: what is in a CRM export, before the first run.

Reads a folder of CSV exports (with its column map if there is one, else a guessed one) and
reports per object: rows; mapped, unmapped and missing columns; fill rate of every column;
distinct values with counts of StageName, ForecastCategoryName and every policy picklist, with the
values the policy does not list; the date and number formats the values show, with the ambiguous
examples (``03/04/2026``); owner (and other) references and whether they resolve by id, by user
name or by e-mail; and which quality checks and registry metrics the data can support, and why not.

It then writes a starter policy overlay (``stages.yaml``: the stages found, in first-seen order,
with TODO probabilities and forecast categories; the picklists found) and a column map draft
beside it, and never overwrites a file that exists.

Nothing is loaded and nothing else is written.
"""

from __future__ import annotations

import csv
import json
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from salesops import policy as _policy
from salesops.config import ObjectSpec, object_manifest
from salesops.policy.picklists import STANDARD_PICKLIST_FIELDS, picklist_fields, picklist_name
from salesops.quality.availability import Availability

_CURRENCY = "$€£¥"
_DATE = re.compile(r"^(\d{1,4})([/.-])(\d{1,2})\2(\d{1,4})(?:[ T](.+))?$")
_SAMPLE = 5


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


# -- guessing a column map ---------------------------------------------------------------------


def guess_object(file_stem: str, manifest: dict[str, ObjectSpec]) -> str | None:
    """The manifest object (api name) a file name most likely holds: the longest name it contains."""
    stem = _norm(file_stem)
    best: tuple[int, str] | None = None
    for spec in manifest.values():
        for key in {_norm(spec.api_name), _norm(spec.name)}:
            keys = {key, key + "s"} | ({key[:-1] + "ies"} if key.endswith("y") else set())
            if any(k in stem for k in keys) and (best is None or len(key) > best[0]):
                best = (len(key), spec.api_name)
    return best[1] if best else None


def _field_aliases(obj: ObjectSpec, api: str) -> list[str]:
    o = _norm(obj.api_name)
    base = api.removesuffix("__c")
    out = [_norm(api), _norm(base), o + _norm(base)]
    if api == "Id":
        out += [o + "id", "recordid"]
    if api == "Name":
        out += [o + "name", "fullname"]
    if base.endswith("Id") and api != "Id":
        out += [_norm(base[:-2]), o + _norm(base[:-2])]
        if base in ("OwnerId", "ManagerId"):  # people exported by name: resolved by the column map
            out.append(_norm(base[:-2]) + "name")
    if base.endswith("Name") and api != "Name":
        out.append(_norm(base[:-4]))
    if base.startswith("Is"):
        out.append(_norm(base[2:]))
    if api == "SystemModstamp":
        out += ["lastmodifieddate", "lastmodified", "modifieddate", "lastmodifiedon"]
    if api == "CreatedDate":
        out += ["created", "createdon", "datecreated"]
    if api == "UserRole":
        out.append("role")
    return out


def guess_columns(obj: ObjectSpec, headers: Sequence[str]) -> dict[str, str]:
    """API field -> CSV header, where a header is the field's name or a usual report label for it."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    by_norm = {_norm(h): h for h in headers}
    for f in obj.fields:
        for alias in _field_aliases(obj, f.api_name):
            h = by_norm.get(alias)
            if h is not None and h not in taken:
                out[f.api_name] = h
                taken.add(h)
                break
    return out


# -- formats -----------------------------------------------------------------------------------


def _time_format(text: str) -> str:
    t = text.strip()
    secs = ":%S" if re.match(r"^\d{1,2}:\d{2}:\d{2}", t) else ""
    if re.search(r"\s?[AaPp][Mm]$", t):
        return f"%I:%M{secs} %p"
    return f"%H:%M{secs}"


def detect_date_format(values: Iterable[str]) -> dict[str, Any]:
    """The order of day and month in a column of dates, with the evidence and ambiguous examples.

    A first part above 12 proves day-first, a second part above 12 month-first; values with both
    parts at most 12 (``03/04/2026``) are ambiguous. Both kinds of evidence in one column = mixed.
    """
    n = first_gt12 = second_gt12 = 0
    iso = 0
    ambiguous: list[str] = []
    unparsed: list[str] = []
    seps: Counter[str] = Counter()
    times: Counter[str] = Counter()
    year_digits: Counter[int] = Counter()
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        n += 1
        m = _DATE.match(text)
        if not m:
            unparsed.append(text)
            continue
        a, sep, b, c, time_part = m.groups()
        seps[sep] += 1
        if time_part:
            times[_time_format(time_part)] += 1
        if len(a) == 4:
            iso += 1
            continue
        year_digits[len(c)] += 1
        if int(a) > 12:
            first_gt12 += 1
        elif int(b) > 12:
            second_gt12 += 1
        else:
            ambiguous.append(text)
    sep = seps.most_common(1)[0][0] if seps else "/"
    year = "%y" if year_digits and year_digits.most_common(1)[0][0] == 2 else "%Y"
    if iso and iso == n - len(unparsed):
        order, fmt = "iso", f"%Y{sep}%m{sep}%d"
    elif first_gt12 and second_gt12:
        order, fmt = "mixed", None
    elif second_gt12:
        order, fmt = "month-first", f"%m{sep}%d{sep}{year}"
    elif first_gt12:
        order, fmt = "day-first", f"%d{sep}%m{sep}{year}"
    else:
        order, fmt = "unknown (every value is ambiguous)", None
    time_fmt = times.most_common(1)[0][0] if times else None
    return {
        "values": n,
        "order": order,
        "format": fmt,
        "datetime_format": f"{fmt} {time_fmt}" if fmt and time_fmt else None,
        "first_part_over_12": first_gt12,
        "second_part_over_12": second_gt12,
        "ambiguous": len(ambiguous),
        "ambiguous_examples": ambiguous,
        "unparsed": unparsed[:_SAMPLE],
    }


def detect_number_format(values: Iterable[str]) -> dict[str, Any]:
    """Currency symbols, thousands and decimal separators a column of numbers uses."""
    currency: Counter[str] = Counter()
    thousands: Counter[str] = Counter()
    decimal: Counter[str] = Counter()
    unparsed: list[str] = []
    n = 0
    for raw in values:
        t = raw.strip()
        if not t:
            continue
        n += 1
        for ch in _CURRENCY:
            if ch in t:
                currency[ch] += 1
        t = t.strip(_CURRENCY + " ").removesuffix("%").strip("()+- ")
        m = re.match(r"^\d{1,3}(?:([,. '])\d{3})*(?:([.,])(\d+))?$|^\d+(?:([.,])(\d+))?$", t)
        if not m:
            unparsed.append(raw)
            continue
        if m.group(1):
            thousands[m.group(1)] += 1
        dec = m.group(2) or m.group(4)
        if dec:
            decimal[dec] += 1
    th = thousands.most_common(1)[0][0] if thousands else ""
    de = next((d for d, _ in decimal.most_common() if d != th), ".")
    return {
        "values": n,
        "currency": sorted(currency),
        "thousands_separator": th,
        "decimal_separator": de,
        "unparsed": unparsed[:_SAMPLE],
    }


# -- the profile -------------------------------------------------------------------------------


@dataclass
class ObjectProfile:
    object: str  # api name
    name: str  # manifest name
    files: list[str]
    rows: int
    mapped: dict[str, str]  # api field -> header
    unmapped: list[str]
    missing_headers: list[str]  # mapped in the column map, not in the file
    fill: dict[str, int]  # header -> non-empty rows
    empty_columns: list[str]
    partly_empty: dict[str, list[str]]  # api field -> ids of rows where it is empty
    values: dict[str, dict[str, int]] = field(default_factory=dict)  # api field -> value -> count
    unknown_values: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_samples: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    dates: dict[str, dict[str, Any]] = field(default_factory=dict)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    references: dict[str, dict[str, Any]] = field(default_factory=dict)
    booleans: dict[str, dict[str, int]] = field(default_factory=dict)  # bool api field -> value -> count
    export: dict[str, Any] = field(
        default_factory=dict
    )  # what the files say about the export (_export_facts)


@dataclass
class Profile:
    folder: str
    column_map: str | None  # the map used (None: guessed)
    objects: list[ObjectProfile]
    unrecognised_files: list[str]
    checks: list[dict[str, str]]
    metrics: list[dict[str, str]]
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def object(self, api_name: str) -> ObjectProfile:
        for o in self.objects:
            if o.object == api_name:
                return o
        raise KeyError(api_name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Table:
    api_name: str
    files: list[Path]
    headers: list[str]
    rows: list[dict[str, str]]
    columns: dict[str, str]  # api -> header (mapped or guessed)
    resolve: dict[str, tuple[str, tuple[str, ...]]]  # field -> (object, by)
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    settings: dict[str, Any] = field(default_factory=dict)  # the column map's export keys, if any


def _read(paths: Sequence[Path], encoding: str, delimiter: str) -> tuple[list[str], list[dict[str, str]]]:
    headers: list[str] = []
    rows: list[dict[str, str]] = []
    for p in paths:
        with p.open(encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            head = [h.strip() for h in next(reader, [])]
            headers += [h for h in head if h not in headers]
            for rec in reader:
                if any(c.strip() for c in rec):
                    rows.append({h: (rec[i] if i < len(rec) else "") for i, h in enumerate(head)})
    return headers, rows


def _tables(folder: Path, column_map: Path | None) -> tuple[list[_Table], list[str]]:
    manifest = {o.api_name: o for o in object_manifest().values()}
    tables: list[_Table] = []
    used: set[Path] = set()
    if column_map is not None:
        from salesops.sources.csv_export import load_column_map

        for api, m in load_column_map(column_map).items():
            paths = sorted(p for p in folder.glob(m.file) if p.is_file())
            used |= set(paths)
            headers, rows = _read(paths, m.encoding, m.delimiter)
            resolve = {fld: (target, by) for fld, target, by in m.resolve}
            settings = {
                "exported_at": m.exported_at,
                "export_full": m.export_full,
                "true_values": sorted(m.true_values),
                "false_values": sorted(m.false_values),
                "timezone": str(m.tz),
            }
            tables.append(
                _Table(api, paths, headers, rows, dict(m.columns), resolve, m.encoding, m.delimiter, settings)
            )
    unrecognised = []
    for p in sorted(folder.glob("*.csv")):
        if p in used:
            continue
        guessed = guess_object(p.stem, manifest)
        if guessed is None or any(t.api_name == guessed for t in tables):
            unrecognised.append(p.name)
            continue
        headers, rows = _read([p], "utf-8-sig", ",")
        tables.append(_Table(guessed, [p], headers, rows, guess_columns(manifest[guessed], headers), {}))
    order = list(manifest)
    tables.sort(key=lambda t: order.index(t.api_name))
    return tables, unrecognised


def _lookup(table: _Table | None) -> dict[str, dict[str, set[str]]]:
    out: dict[str, dict[str, set[str]]] = {"Id": {}, "Name": {}, "Email": {}}
    if table is None or "Id" not in table.columns:
        return out
    for row in table.rows:
        rid = row.get(table.columns["Id"], "").strip()
        if not rid:
            continue
        out["Id"].setdefault(rid.casefold(), set()).add(rid)
        for key in ("Name", "Email"):
            h = table.columns.get(key)
            if h and row.get(h, "").strip():
                out[key].setdefault(row[h].strip().casefold(), set()).add(rid)
    return out


def _references(t: _Table, tables: dict[str, _Table]) -> dict[str, dict[str, Any]]:
    wanted = dict(t.resolve)
    for api in t.columns:
        if api not in wanted and (api.endswith("OwnerId") or api == "ManagerId"):
            wanted[api] = ("User", ("Id", "Name", "Email"))
    out: dict[str, dict[str, Any]] = {}
    id_header = t.columns.get("Id")
    for fld, (target, by) in wanted.items():
        header = t.columns.get(fld)
        if header is None or header not in t.headers:
            continue
        lk = _lookup(tables.get(target))
        records: dict[str, list[str]] = {}
        for row in t.rows:
            v = row.get(header, "").strip()
            if v:
                records.setdefault(v, []).append(row.get(id_header, "") if id_header else "")
        res: dict[str, Any] = {"object": target, "header": header, "distinct": len(records)}
        res.update(by_id=[], by_name=[], by_email=[], ambiguous=[], unresolved=[])
        for value, ids in records.items():
            how = None
            for rule in by:
                hits = lk[rule].get(value.casefold())
                if hits and len(hits) == 1:
                    how = rule
                    break
                if hits:
                    how = "ambiguous"
            key = {"Id": "by_id", "Name": "by_name", "Email": "by_email"}.get(how or "", how)
            if key is None:
                res["unresolved"].append({"value": value, "records": len(ids), "sample_ids": ids[:_SAMPLE]})
            else:
                res[key].append(value)
        if target not in tables:
            res["note"] = f"no {target} export: references cannot be checked"
        out[fld] = res
    return out


def _object_profile(
    t: _Table, tables: dict[str, _Table], known: dict[tuple[str, str], list[str]]
) -> ObjectProfile:
    spec = next(o for o in object_manifest().values() if o.api_name == t.api_name)
    present = {api: h for api, h in t.columns.items() if h in t.headers}
    fill = {h: sum(1 for r in t.rows if r.get(h, "").strip()) for h in t.headers}
    id_header = present.get("Id")
    types = {f.api_name: f.type for f in spec.fields}
    mapped_headers = set(present.values())
    p = ObjectProfile(
        object=t.api_name,
        name=spec.name,
        files=[f.name for f in t.files],
        rows=len(t.rows),
        mapped=present,
        unmapped=[h for h in t.headers if h not in mapped_headers],
        missing_headers=[h for api, h in t.columns.items() if h not in t.headers],
        fill=fill,
        empty_columns=[h for h in t.headers if fill[h] == 0],
        partly_empty={},
    )
    for api, h in present.items():
        if 0 < fill[h] < len(t.rows):
            p.partly_empty[api] = [
                r.get(id_header, "") if id_header else "" for r in t.rows if not r.get(h, "").strip()
            ]
        column = [r.get(h, "") for r in t.rows]
        ftype = types.get(api)
        if ftype in ("date", "timestamp"):
            p.dates[api] = {"header": h, **detect_date_format(column)}
        elif ftype in ("decimal", "double", "int"):
            p.numbers[api] = {"header": h, **detect_number_format(column)}
        if (
            api in ("StageName", "ForecastCategoryName")
            or (t.api_name, api) in known
            or (t.api_name, api) in STANDARD_PICKLIST_FIELDS
        ):
            counts: dict[str, int] = {}
            samples: dict[str, list[str]] = {}
            for r in t.rows:
                v = r.get(h, "").strip()
                counts[v] = counts.get(v, 0) + 1
                samples.setdefault(v, []).append(r.get(id_header, "") if id_header else "")
            p.values[api] = counts
            allowed = known.get((t.api_name, api))
            if allowed is not None:
                unknown = {v: c for v, c in counts.items() if v and v not in allowed}
                if unknown:
                    p.unknown_values[api] = unknown
                    p.unknown_samples[api] = {v: samples[v][:_SAMPLE] for v in unknown}
    for api, h in present.items():
        if types.get(api) == "bool":
            p.booleans[api] = dict(Counter(v for r in t.rows if (v := r.get(h, "").strip())))
    if t.files:
        p.export = _export_facts(t, spec, present, p.dates)
    p.references = _references(t, tables)
    return p


# a change stamp span this long means the file holds records untouched for weeks: a full export
_FULL_EXPORT_SPAN_DAYS = 28
_TRUE_WORDS = frozenset(
    {"true", "yes", "y", "1", "t", "x", "on", "checked", "active", "ja", "oui", "si", "sí"}
)
_FALSE_WORDS = frozenset({"false", "no", "n", "0", "f", "off", "unchecked", "inactive", "nein", "non"})


def _parse_stamp(text: str, fmt: str | None) -> datetime | None:
    t = text.strip()
    try:
        if fmt:
            return datetime.strptime(t, fmt)
        return datetime.fromisoformat(t.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def _export_facts(
    t: _Table, spec: ObjectSpec, present: dict[str, str], dates: dict[str, Any]
) -> dict[str, Any]:
    """What the files say about the export: the newest change stamp (read in the column map's time
    zone, else UTC), how many days the stamps span, the files' newest modification time, and the
    column map's own export keys when it has them."""
    tz = ZoneInfo(str(t.settings.get("timezone") or "UTC"))
    facts: dict[str, Any] = {
        "cursor": spec.cursor,
        "cursor_header": present.get(spec.cursor),
        "deletes": spec.deletes,  # objects.yaml: does the load apply deletes (and so `export: full`)?
    }
    header = facts["cursor_header"]
    if header is not None:
        d = dates.get(spec.cursor, {})
        fmt = None if d.get("order") == "iso" else (d.get("datetime_format") or d.get("format"))
        stamps = [s for r in t.rows if (s := _parse_stamp(r.get(header, ""), fmt)) is not None]
        if stamps:
            newest = max(stamps)
            aware = newest if newest.tzinfo else newest.replace(tzinfo=tz)
            facts["newest_stamp"] = aware.astimezone(UTC)
            facts["newest_stamp_text"] = next(
                r[header].strip() for r in t.rows if _parse_stamp(r.get(header, ""), fmt) == newest
            )
            facts["stamp_span_days"] = (newest - min(stamps)).days
    facts["newest_mtime"] = max(datetime.fromtimestamp(f.stat().st_mtime, UTC) for f in t.files)
    if t.settings:
        facts["map"] = dict(t.settings)
    return facts


def _known_values() -> dict[tuple[str, str], list[str]]:
    st = _policy.stages()
    known = {("Opportunity", "StageName"): [s.name for s in st.stages]}
    known[("Opportunity", "ForecastCategoryName")] = list(st.forecast_categories)
    for pair, (_name, values) in picklist_fields(st.picklists).items():
        known[pair] = values
    return known


def _availability(objects: list[ObjectProfile]) -> Availability:
    avail = Availability()
    by_api = {o.object: o for o in objects}
    for spec in object_manifest().values():
        o = by_api.get(spec.api_name)
        avail.rows[spec.name] = o.rows if o else 0
        if o is None:
            continue
        avail.undelivered[spec.name] = {f for f in spec.api_fields if f not in o.mapped}
        for api, h in o.mapped.items():
            avail.filled[(spec.name, api)] = o.fill.get(h, 0)
    return avail


def _unusable_duplicates(cfg: Any, tables: Sequence[_Table]) -> dict[str, str]:
    """``<object>_duplicate`` -> the run's "no usable matching key" reason, for the objects whose
    profiled rows give the duplicate matcher no key at all (the matcher itself decides)."""
    import pandas as pd

    from salesops.quality.duplicates import find_duplicates
    from salesops.quality.runner import unusable_reason

    section = cfg.section("duplicates")
    suffixes = {str(k): str(v) for k, v in (section.get("company_suffixes") or {}).items()}
    by_api = {t.api_name: t for t in tables}
    out = {}
    for object_name, rules in (section.get("objects") or {}).items():
        obj = object_manifest().get(object_name)
        t = by_api.get(obj.api_name) if obj else None
        if obj is None or t is None or not t.rows:
            continue
        api_of = {f.column: f.api_name for f in obj.fields}
        id_header = t.columns.get("Id", "")
        data: dict[str, list[Any]] = {
            "record_id": [r.get(id_header, str(i)) for i, r in enumerate(t.rows)],
            "created_at": [pd.NaT] * len(t.rows),
        }
        for role, column in rules["fields"].items():
            header = t.columns.get(api_of.get(column, ""), "")
            data[role] = [r.get(header, "") or "" for r in t.rows]
        if find_duplicates(pd.DataFrame(data), object_name, rules, suffixes).unusable:
            out[f"{object_name}_duplicate"] = unusable_reason(obj.api_name, rules)
    return out


def _evaluability(
    objects: list[ObjectProfile], tables: Sequence[_Table] = ()
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    from salesops.kpis.history import HISTORY_OBJECT, metric_needs
    from salesops.quality import picklist_checks
    from salesops.quality.catalogue import load_config
    from salesops.quality.runner import _EMPTY_IS_THE_FINDING, _check_needs

    avail = _availability(objects)
    cfg = load_config()
    unusable = _unusable_duplicates(cfg, tables)
    checks = []
    for check in cfg.checks.values():
        if check.object == "*":
            continue
        reason = avail.reason(_check_needs(check, cfg), empty_counts=check.id not in _EMPTY_IS_THE_FINDING)
        reason = reason or picklist_checks.not_evaluated_reason(check, cfg, avail) or unusable.get(check.id)
        checks.append(
            {
                "check": check.id,
                "object": check.api_name,
                "status": "evaluable" if reason is None else "not_evaluated",
                "reason": reason or "",
            }
        )
    has_history = avail.rows.get(HISTORY_OBJECT, 0) > 0
    why_history = {
        "comparisons": "week-over-week and quarter-to-date movement compare with an earlier day",
        "stage_entry": "stage aging needs the day each deal entered its stage (the created date is not one)",
        "field_history": "it needs the stages each deal passed through",
    }
    metrics = []
    for m in _policy.metrics().metrics:
        needs, kind = metric_needs(m)
        reason = avail.reason(needs)
        if reason is None and kind is not None and not has_history:
            reason = (
                f"not available: {why_history[kind]}; the export has no field history "
                "(OpportunityFieldHistory), and history starts with the first load (daily snapshots)"
            )
        metrics.append(
            {
                "metric": m.name,
                "status": "evaluable" if reason is None else "not_evaluated",
                "reason": reason or "",
            }
        )
    return checks, metrics


def profile_folder(folder: str | Path, column_map: str | Path | None = None) -> Profile:
    """Profile a folder of CSV exports (``column_map.yaml`` in it is used when present)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"CSV export folder not found: {folder}")
    cmap = Path(column_map) if column_map else folder / "column_map.yaml"
    tables, unrecognised = _tables(folder, cmap if cmap.is_file() else None)
    by_api = {t.api_name: t for t in tables}
    known = _known_values()
    objects = [_object_profile(t, by_api, known) for t in tables]
    checks, metrics = _evaluability(objects, tables)
    return Profile(
        folder=str(folder),
        column_map=str(cmap) if cmap.is_file() else None,
        objects=objects,
        unrecognised_files=unrecognised,
        checks=checks,
        metrics=metrics,
    )


def _text_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def profile_source(kind: str, limit: int = 50_000, **options: Any) -> Profile:
    """Profile an API source (any kind of salesops.sources.registry) by reading its records.

    Records already carry the manifest's API field names, so every field the source delivers is
    "mapped"; a manifest field no record carries is reported as not delivered (the checks that need
    it are not evaluable). At most ``limit`` records per object are read.
    """
    from salesops.sources.registry import get_source

    src = get_source(kind, **options)
    until = src.server_time()
    tables: list[_Table] = []
    for spec in object_manifest().values():
        rows: list[dict[str, str]] = []
        seen: list[str] = []
        for page in src.read_changes(spec.api_name, spec.api_fields, spec.cursor, None, until):
            records: list[dict[str, Any]] = page if isinstance(page, list) else page.to_pylist()
            for rec in records:
                for k in rec:
                    if k not in seen:
                        seen.append(k)
                rows.append({k: _text_value(v) for k, v in rec.items()})
            if len(rows) >= limit:
                rows = rows[:limit]
                break
        if rows:
            fields = [f for f in spec.api_fields if f in seen]
            tables.append(_Table(spec.api_name, [], seen, rows, {f: f for f in fields}, {}))
    by_api = {t.api_name: t for t in tables}
    known = _known_values()
    objects = [_object_profile(t, by_api, known) for t in tables]
    checks, metrics = _evaluability(objects, tables)
    return Profile(
        folder=f"{kind} source",
        column_map=None,
        objects=objects,
        unrecognised_files=[],
        checks=checks,
        metrics=metrics,
    )


# -- drafts ------------------------------------------------------------------------------------


def _required_field_proposal(
    prof: Profile, opp: ObjectProfile | None
) -> tuple[set[str], list[str], list[str]]:
    """(fields the export fills, the fields every policy stage requires, policy-required fields
    the export lacks) for the starter overlay's ``required_fields``.

    "Products" (at least one line item) counts as filled when the export has line items.
    """
    st = _policy.stages()
    filled = {api for api, h in (opp.mapped.items() if opp else []) if opp and opp.fill.get(h, 0) > 0}
    if any(o.object == "OpportunityLineItem" and o.rows for o in prof.objects):
        filled.add("Products")
    every_stage = [f for f in st.stages[0].required_fields if all(f in s.required_fields for s in st.stages)]
    wanted: list[str] = []
    for s in st.stages:
        wanted += [f for f in s.required_fields if f not in wanted]
    return filled, every_stage, [f for f in wanted if f not in filled]


def starter_overlay(prof: Profile) -> str:
    """stages.yaml for the overlay folder: the stages found (first-seen order), TODO probabilities."""
    st = _policy.stages()
    lines = [
        "# Starter policy overlay written by `python -m salesops profile` from the export's values.",
        "# Replace every TODO (probability 0-100; is_closed/is_won; the forecast categories each stage",
        "# allows), then point SALESOPS_CONFIG_DIR (or make ... CONFIG_DIR=) at this folder. A TODO left",
        "# in place fails policy validation on purpose: nothing runs on a guessed probability.",
    ]
    opp = next((o for o in prof.objects if o.object == "Opportunity"), None)
    stages = [v for v in (opp.values.get("StageName", {}) if opp else {}) if v]
    cats = [v for v in (opp.values.get("ForecastCategoryName", {}) if opp else {}) if v]
    if stages:
        filled, every_stage, left_out = _required_field_proposal(prof, opp)
        lines += [
            "# required_fields: proposed per stage - a default stage's own list, a new stage the fields",
            f"# every default stage requires ({', '.join(every_stage) or 'none'}) - keeping only fields",
            "# the export fills (a required field the export lacks would make opp_missing_required_field",
            "# n/a). Add fields a deal must carry from a stage on (Amount ...); a stage without the key",
            "# has no required fields."
            + (f" Left out (not in the export): {', '.join(left_out)}." if left_out else ""),
            "stages:",
        ]
        for i, name in enumerate(stages, start=1):
            known = next((s for s in st.stages if s.name == name), None)
            required = [f for f in (known.required_fields if known else every_stage) if f in filled]
            if known is not None:
                lines.append(
                    f"  - {{name: {json.dumps(name)}, order: {i}, probability: {known.probability:g}, "
                    f"is_closed: {str(known.is_closed).lower()}, is_won: {str(known.is_won).lower()}, "
                    f"forecast_categories: {json.dumps(known.forecast_categories)}, "
                    f"required_fields: {json.dumps(required)}}}   # as include/config"
                )
            else:
                lines.append(
                    f"  - {{name: {json.dumps(name)}, order: {i}, probability: TODO, is_closed: TODO, "
                    f"is_won: TODO, forecast_categories: [TODO], required_fields: {json.dumps(required)}}}"
                )
    if cats:
        lines.append(f"forecast_categories: {json.dumps(cats)}   # as found in the export")
    else:
        lines.append(
            f"# forecast_categories: the export has none; the default list stays {json.dumps(st.forecast_categories)}"
        )
    # every picklist field the export fills (declared in the policy or a standard picklist field
    # such as Account.Industry), under the stages.yaml name that governs it
    picks: dict[str, list[str]] = {}
    for o in prof.objects:
        for fld, counts in o.values.items():
            if fld in ("StageName", "ForecastCategoryName"):
                continue
            found = [v for v in counts if v]
            if not found:
                continue
            name = picklist_name(o.object, fld, st.picklists)
            picks.setdefault(name, [])
            picks[name] += [v for v in found if v not in picks[name]]
    if picks:
        lines.append("picklists:   # the values found; each list replaces the default list")
        for name, values in picks.items():
            lines.append(f"  {name}: {json.dumps(values)}")
    return "\n".join(lines) + "\n"


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_proposal(prof: Profile) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The export keys the CSV source needs, proposed from the files: (defaults keys
    ``exported_at`` / ``true_values`` / ``false_values``, object -> ``export`` full|incremental,
    the notes that say where each value came from and what to check).

    One ``exported_at`` for every file: without it, an object whose file has a change-stamp column
    is exported "at" its newest stamp, one without at the file's modification time, and
    source_freshness holds the gate on the object that looks older. The proposal is the column
    map's own value, else the newest change stamp in the files (a lower bound of the export time:
    a row stamped later than ``exported_at`` fails the load, so it is never too early to load),
    else the files' newest modification time.
    """
    objs = [o for o in prof.objects if o.export]
    defaults: dict[str, Any] = {}
    export: dict[str, str] = {}
    notes: list[str] = []
    if not objs:
        return defaults, export, notes
    declared = sorted({m["exported_at"] for o in objs if (m := o.export.get("map")) and m.get("exported_at")})
    stamped = [o for o in objs if o.export.get("newest_stamp") is not None]
    unstamped = [o.object for o in objs if o.export.get("newest_stamp") is None]
    if declared:
        defaults["exported_at"] = _iso(declared[-1])
        notes.append(f"exported_at {defaults['exported_at']}: as the column map declares it")
    elif stamped:
        top = max(stamped, key=lambda o: o.export["newest_stamp"])
        defaults["exported_at"] = _iso(top.export["newest_stamp"])
        notes.append(
            f"exported_at {defaults['exported_at']}: TODO the time the export ran (UTC). Proposed: the newest "
            f"change stamp in the files ({top.object} {top.export['cursor_header']!r} "
            f"{top.export['newest_stamp_text']}, read in the map's time zone); if you change timezone, "
            "change this too (a row stamped after exported_at fails the load). It is the as-of date of "
            "every check and figure"
            + (
                f"; without it {', '.join(unstamped)} (no change-stamp column) would be dated by the "
                "file's modification time and source_freshness would hold the gate"
                if unstamped
                else ""
            )
        )
    else:
        newest = max(o.export["newest_mtime"] for o in objs)
        defaults["exported_at"] = _iso(newest)
        notes.append(
            f"exported_at {defaults['exported_at']}: TODO no file has a change-stamp column, so nothing in "
            "the export says when it ran; proposed: the files' newest modification time (a copy moves "
            "it). Set it to the time the export ran (UTC): it is the as-of date of every check and figure"
        )
    for o in objs:
        m = o.export.get("map") or {}
        span = o.export.get("stamp_span_days")
        if not o.export.get("deletes"):
            continue  # the load never deletes this object's records: `export` changes nothing
        if m.get("export_full"):
            export[o.object], why = "full", "as the column map declares it"
        elif o.export.get("cursor_header") is None:
            export[o.object], why = "full", "no change-stamp column: the file is a snapshot of the object"
        elif span is not None and span >= _FULL_EXPORT_SPAN_DAYS:
            export[o.object], why = (
                "full",
                f"its change stamps span {span} days: it holds records unchanged for weeks",
            )
        else:
            export[o.object] = "incremental"
            why = f"its change stamps span {span if span is not None else '?'} days: it looks like the changes since a last export"
        notes.append(
            f"{o.object} export: {export[o.object]} - {why}"
            + (
                " (full: ids missing from a newer export are deleted; make it incremental if the file "
                "holds only changed rows)"
                if export[o.object] == "full"
                else " (make it full if each file holds every record)"
            )
        )
    trues: list[str] = []
    falses: list[str] = []
    for o in objs:
        m = o.export.get("map") or {}
        map_true, map_false = set(m.get("true_values") or ()), set(m.get("false_values") or ())
        for api, counts in o.booleans.items():
            unknown = []
            for v in counts:
                key = v.casefold()
                if key in map_true or (key not in map_false and key in _TRUE_WORDS):
                    trues += [v] if v not in trues else []
                elif key in map_false or key in _FALSE_WORDS:
                    falses += [v] if v not in falses else []
                else:
                    unknown.append(v)
            header = o.mapped.get(api, api)
            notes.append(
                f"{o.object}.{api} ({header!r}) is a boolean: "
                + ", ".join(f"{v} {c}" for v, c in counts.items())
                + (
                    f"; TODO add {', '.join(repr(u) for u in unknown)} to true_values or false_values "
                    "(a value in neither quarantines its row)"
                    if unknown
                    else ""
                )
            )
    if trues or falses:
        defaults["true_values"], defaults["false_values"] = trues, falses
    return defaults, export, notes


def column_map_draft(prof: Profile) -> str:
    """A column map from the mapped (or guessed) headers and the detected formats."""
    date_fmt = dt_fmt = None
    thousands = decimal = None
    for o in prof.objects:
        for d in o.dates.values():
            date_fmt = date_fmt or d["format"]
            dt_fmt = dt_fmt or d["datetime_format"]
        for n in o.numbers.values():
            if n["values"]:
                thousands = thousands if thousands is not None else n["thousands_separator"]
                decimal = decimal or n["decimal_separator"]
    defaults: dict[str, Any] = {}
    if date_fmt:
        defaults["date_format"] = date_fmt
    if dt_fmt:
        defaults["datetime_format"] = dt_fmt
    zones = {o.export["map"]["timezone"] for o in prof.objects if o.export.get("map")}
    defaults["timezone"] = zones.pop() if len(zones) == 1 else "UTC"
    export_defaults, export, notes = export_proposal(prof)
    if "exported_at" in export_defaults:
        defaults["exported_at"] = export_defaults["exported_at"]
    for key in ("true_values", "false_values"):
        if key in export_defaults:
            defaults[key] = export_defaults[key]
    if decimal:
        defaults["decimal_separator"] = decimal
    if thousands:
        defaults["thousands_separator"] = thousands
    objects: dict[str, Any] = {}
    users = any(o.object == "User" for o in prof.objects)
    for o in prof.objects:
        entry: dict[str, Any] = {"file": o.files[0] if len(o.files) == 1 else "*.csv"}
        if o.object in export:
            entry["export"] = export[o.object]
        entry["columns"] = dict(o.mapped)
        refs = {
            f: {"object": r["object"], "by": ["Id", "Name", "Email"]}
            for f, r in o.references.items()
            if users and (r["by_name"] or r["by_email"])
        }
        if refs:
            entry["resolve"] = refs
        objects[o.object] = entry
    head = (
        "# Column map draft written by `python -m salesops profile` (check every line: the columns\n"
        "# are guessed from the headers, the formats from the values). Left: API names of\n"
        "# include/config/objects.yaml; right: the headers exactly as exported. Set timezone to the\n"
        "# exporting user's zone. The export keys below are proposed from the files - check each:\n"
        + "".join(
            textwrap.fill(n, 100, initial_indent="#   ", subsequent_indent="#     ", break_on_hyphens=False)
            + "\n"
            for n in notes
        )
    )
    return head + yaml.safe_dump(
        {"defaults": defaults, "objects": objects}, sort_keys=False, allow_unicode=True
    )


def write_drafts(prof: Profile, out_dir: str | Path) -> Profile:
    """Write the starter overlay (``<out>/config/stages.yaml``), the column map draft
    (``<out>/column_map.yaml``) and ``<out>/profile.json``; an existing file is never overwritten."""
    out = Path(out_dir)
    targets = {out / "config" / "stages.yaml": starter_overlay(prof)}
    if any(o.files for o in prof.objects):
        targets[out / "column_map.yaml"] = column_map_draft(prof)
    for path, text in targets.items():
        if path.exists():
            prof.skipped.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        prof.written.append(str(path))
    report = out / "profile.json"
    if report.exists():
        prof.skipped.append(str(report))
    else:
        prof.written.append(str(report))
        report.write_text(json.dumps(prof.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
    return prof


# -- text report -------------------------------------------------------------------------------


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{v or '(empty)'} {c}" for v, c in d.items())


def render(prof: Profile) -> str:
    """The report as plain text (what the command prints)."""
    lines = [f"Profile of {prof.folder}"]
    if any(o.files for o in prof.objects):
        lines.append(f"column map: {prof.column_map or '(none: columns guessed from the headers)'}")
    if prof.unrecognised_files:
        lines.append(f"files not recognised as a manifest object: {', '.join(prof.unrecognised_files)}")
    for o in prof.objects:
        lines += ["", f"== {o.object}: {o.rows} rows" + (f" ({', '.join(o.files)})" if o.files else "")]
        lines.append(
            "  mapped:   " + ", ".join(f"{a} <- {h!r} ({o.fill[h]}/{o.rows})" for a, h in o.mapped.items())
        )
        if o.unmapped:
            lines.append("  unmapped: " + ", ".join(f"{h!r} ({o.fill[h]}/{o.rows})" for h in o.unmapped))
        if o.missing_headers:
            lines.append(
                "  MISSING headers (in the column map, not in the file): " + ", ".join(o.missing_headers)
            )
        if o.empty_columns:
            lines.append("  empty in every row: " + ", ".join(o.empty_columns))
        for api, ids in o.partly_empty.items():
            lines.append(f"  {api} empty in {len(ids)} rows: {', '.join(ids[:_SAMPLE])}")
        for api, counts in o.values.items():
            lines.append(f"  {api}: {_counts(counts)}")
            if api in o.unknown_values:
                lines.append(f"    NOT IN POLICY: {_counts(o.unknown_values[api])}")
        for api, d in o.dates.items():
            amb = (
                f"; ambiguous {d['ambiguous']} (e.g. {', '.join(d['ambiguous_examples'][:3])})"
                if d["ambiguous"]
                else ""
            )
            lines.append(
                f"  {api} ({d['header']}): {d['order']}, format {d['datetime_format'] or d['format']}; "
                f"first part > 12 in {d['first_part_over_12']}, second part > 12 in {d['second_part_over_12']}{amb}"
            )
        for api, n in o.numbers.items():
            if n["values"]:
                lines.append(
                    f"  {api} ({n['header']}): currency {''.join(n['currency']) or 'none'}, thousands "
                    f"{n['thousands_separator']!r}, decimal {n['decimal_separator']!r}"
                    + (f"; unparsed {n['unparsed']}" if n["unparsed"] else "")
                )
        for api, r in o.references.items():
            lines.append(
                f"  {api} -> {r['object']}: {r['distinct']} distinct; by id {len(r['by_id'])}, by name "
                f"{len(r['by_name'])}, by e-mail {len(r['by_email'])}, ambiguous {len(r['ambiguous'])}, "
                f"unresolved {len(r['unresolved'])}"
                + "".join(
                    f"\n    unresolved {u['value']!r} ({u['records']}: {', '.join(u['sample_ids'])})"
                    for u in r["unresolved"]
                )
            )
    _defaults, _export, notes = export_proposal(prof)
    if notes:
        lines += ["", "Export (the keys the column map draft proposes; check each):"]
        lines += [
            textwrap.fill(n, 100, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False)
            for n in notes
        ]
    lines += ["", "Checks the data can support:"]
    for c in prof.checks:
        lines.append(
            f"  {c['check']:<34}{c['object']:<16}"
            + ("ok" if c["status"] == "evaluable" else f"n/a - {c['reason']}")
        )
    lines += ["", "Metrics:"]
    for m in prof.metrics:
        lines.append(
            f"  {m['metric']:<34}" + ("ok" if m["status"] == "evaluable" else f"n/a - {m['reason']}")
        )
    if prof.written or prof.skipped:
        lines.append("")
        lines += [f"wrote {p}" for p in prof.written]
        lines += [f"kept {p} (exists; never overwritten)" for p in prof.skipped]
    return "\n".join(lines)
