"""update_records(): field updates with per-record results, like Salesforce sObject Collections.

allOrNone is false: each record succeeds or fails on its own. Error strings start with the
Salesforce status code (ENTITY_IS_DELETED, INVALID_ID, INVALID_FIELD, INVALID_FIELD_FOR_INSERT_UPDATE,
INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, INVALID_TYPE_ON_FIELD_IN_RECORD, UNABLE_TO_LOCK_ROW).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import duckdb
import pandas as pd

from salesops.config import ObjectSpec, policy
from salesops.sources.base import UpdateResult
from salesops_demo.store import q, spec, to_naive_utc

READ_ONLY = {"Id", "SystemModstamp", "CreatedDate", "IsClosed", "IsWon"}
IMMUTABLE_OBJECTS = {"OpportunityFieldHistory", "LifecycleStageChange"}
HISTORY_FIELDS = ("StageName", "Amount", "CloseDate", "ForecastCategoryName")

FAULT_DDL = (
    "CREATE TABLE IF NOT EXISTS fault_injection (Id VARCHAR PRIMARY KEY, kind VARCHAR, remaining BIGINT)"
)


def _restricted_picklists(api_name: str) -> dict[str, tuple[list[str], bool]]:
    """field -> (allowed values, null allowed)."""
    st = policy("stages")
    out: dict[str, tuple[list[str], bool]] = {}
    if api_name == "Opportunity":
        out["StageName"] = ([s["name"] for s in st["stages"]], False)
        out["ForecastCategoryName"] = (list(st["forecast_categories"]), False)
        out["Type"] = (list(st["picklists"]["opportunity_type"]), True)
        out["Loss_Reason__c"] = (list(st["picklists"]["loss_reason"]), True)
    if api_name in ("Opportunity", "Lead", "Contact"):
        out["LeadSource"] = (list(st["picklists"]["lead_source"]), True)
    if api_name == "Lead":
        out["Status"] = (list(st["picklists"]["lead_status"]), False)
    return out


def _coerce(value: Any, ftype: str) -> Any:
    """API value (text or Python) -> stored Python value; raises ValueError when it does not fit."""
    if value is None or (isinstance(value, str) and value == "" and ftype not in ("string", "id")):
        return None
    if ftype in ("string", "id"):
        return str(value)
    if ftype == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ValueError
    if ftype == "int":
        if isinstance(value, bool):
            raise ValueError
        d = Decimal(str(value))
        if d != d.to_integral_value():
            raise ValueError
        return int(d)
    if ftype in ("decimal", "double"):
        if isinstance(value, bool):
            raise ValueError
        try:
            d = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError from exc
        if not d.is_finite():
            raise ValueError
        return float(round(d, 2)) if ftype == "decimal" else float(d)
    if ftype == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return date.fromisoformat(str(value))
    if ftype == "timestamp":
        if isinstance(value, datetime):
            return to_naive_utc(value)
        text = str(value).replace("Z", "+00:00")
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00
        return to_naive_utc(datetime.fromisoformat(text))
    raise ValueError


def _text(value: Any, ftype: str) -> str | None:
    """History text of a stored value (as the API shows it)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if ftype == "decimal":
        return f"{float(value):.2f}"
    if ftype == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return str(value)


def update_records(
    con: duckdb.DuckDBPyConnection,
    api_name: str,
    updates: Sequence[dict[str, Any]],
    clock: datetime,
    visible: list[str],
) -> tuple[list[UpdateResult], datetime | None]:
    """Validate and apply ``updates``; returns per-record results and the new stamp (if any success)."""
    obj: ObjectSpec = spec(api_name)
    types = {f.api_name: f.type for f in obj.fields}
    picklists = _restricted_picklists(api_name)
    stages = {s["name"]: s for s in policy("stages")["stages"]}
    con.execute(FAULT_DDL)
    current, deleted, faults = _current_state(
        con, api_name, [str(u.get("Id")) for u in updates if u.get("Id")]
    )
    stamp = to_naive_utc(clock) + timedelta(seconds=1)
    results: list[UpdateResult] = []
    new_rows: dict[str, dict[str, Any]] = {}
    history: list[dict[str, Any]] = []
    cleared_malformed: list[tuple[str, str]] = []
    for upd in updates:
        rid = str(upd.get("Id") or "")
        refused = _refusal(con, api_name, rid, faults, deleted, known=rid in current or rid in new_rows)
        if refused is not None:
            results.append(refused)
            continue
        row = dict(new_rows.get(rid) or current[rid])
        values, errors = _validated_values(upd, types, picklists, visible)
        if errors:
            results.append(UpdateResult(rid, False, errors))
            continue
        if (
            api_name == "Opportunity"
            and "StageName" in values
            and values["StageName"] != row.get("StageName")
        ):
            st = stages[values["StageName"]]
            row["IsClosed"], row["IsWon"] = bool(st["is_closed"]), bool(st["is_won"])
            values.setdefault("Probability", float(st["probability"]))
            values.setdefault("ForecastCategoryName", st["forecast_categories"][0])
        for field, value in values.items():
            if api_name == "Opportunity" and field in HISTORY_FIELDS:
                old_t, new_t = _text(row.get(field), types[field]), _text(value, types[field])
                if old_t != new_t:
                    history.append(
                        {
                            "OpportunityId": rid,
                            "Field": field,
                            "OldValue": old_t,
                            "NewValue": new_t,
                            "CreatedDate": stamp,
                        }
                    )
            row[field] = value
            cleared_malformed.append((rid, field))
        if "SystemModstamp" in row:
            row["SystemModstamp"] = stamp
        new_rows[rid] = row
        results.append(UpdateResult(rid, True))
    if not new_rows:
        return results, None
    _store_updates(con, api_name, new_rows, history, cleared_malformed, stamp)
    return results, stamp


def _current_state(
    con: duckdb.DuckDBPyConnection, api_name: str, ids: list[str]
) -> tuple[dict[str, dict[str, Any]], set[str], dict[str, tuple[str, int]]]:
    """(current rows by Id, deleted Ids, injected faults by Id) of the records an update names."""
    if not ids:
        return {}, set(), {}
    con.register("_ids", pd.DataFrame({"Id": ids}))
    df = con.sql(f"SELECT * FROM {q(api_name)} WHERE Id IN (SELECT Id FROM _ids)").df()
    con.unregister("_ids")
    current = {r["Id"]: r for r in df.to_dict("records")}
    deleted = {
        r[0]
        for r in con.execute(
            "SELECT Id FROM deleted_records WHERE api_name = ? AND Id IN (SELECT unnest(?))",
            [api_name, ids],
        ).fetchall()
    }
    faults = {
        r[0]: (r[1], r[2])
        for r in con.execute(
            "SELECT Id, kind, remaining FROM fault_injection WHERE Id IN (SELECT unnest(?))", [ids]
        ).fetchall()
    }
    return current, deleted, faults


def _refusal(
    con: duckdb.DuckDBPyConnection,
    api_name: str,
    rid: str,
    faults: dict[str, tuple[str, int]],
    deleted: set[str],
    *,
    known: bool,
) -> UpdateResult | None:
    """The error result for an update the API refuses before looking at its fields (no Id, an
    injected fault, an immutable object, an unknown or deleted record); None when it may proceed.
    A transient fault is used up here (one fewer remaining)."""
    if not rid:
        return UpdateResult("", False, ["MISSING_ARGUMENT: Id not specified in an update call"])
    if rid in faults:
        kind, remaining = faults[rid]
        if kind == "permanent":
            return UpdateResult(rid, False, ["CANNOT_EXECUTE_FLOW_TRIGGER: injected permanent fault"])
        if remaining > 0:
            con.execute("UPDATE fault_injection SET remaining = remaining - 1 WHERE Id = ?", [rid])
            faults[rid] = (kind, remaining - 1)
            return UpdateResult(
                rid,
                False,
                ["UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record"],
                transient=True,
            )
    if api_name in IMMUTABLE_OBJECTS:
        return UpdateResult(rid, False, [f"INVALID_TYPE_FOR_OPERATION: {api_name} cannot be updated"])
    if not known:
        code = (
            "ENTITY_IS_DELETED: entity is deleted"
            if rid in deleted
            else f"INVALID_ID: no {api_name} with Id {rid}"
        )
        return UpdateResult(rid, False, [code])
    return None


def _validated_values(
    upd: dict[str, Any],
    types: dict[str, str],
    picklists: dict[str, tuple[list[str], bool]],
    visible: list[str],
) -> tuple[dict[str, Any], list[str]]:
    """(coerced values by field, API errors) of one update's fields."""
    errors: list[str] = []
    values: dict[str, Any] = {}
    for field, raw in upd.items():
        if field == "Id":
            continue
        if field in READ_ONLY:
            errors.append(f"INVALID_FIELD_FOR_INSERT_UPDATE: {field} is not writeable")
            continue
        if field not in visible:
            errors.append(f"INVALID_FIELD: {field}")
            continue
        ftype = types.get(field, "string")
        try:
            value = _coerce(raw, ftype)
        except (ValueError, TypeError, InvalidOperation):
            errors.append(
                f"INVALID_TYPE_ON_FIELD_IN_RECORD: {field}: value not of required type {ftype}: {raw!r}"
            )
            continue
        if field in picklists:
            allowed, nullable = picklists[field]
            if (value is None and not nullable) or (value is not None and value not in allowed):
                errors.append(
                    f"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: {field}: bad value for restricted "
                    f"picklist field: {raw!r}"
                )
                continue
        values[field] = value
    return values, errors


def _store_updates(
    con: duckdb.DuckDBPyConnection,
    api_name: str,
    new_rows: dict[str, dict[str, Any]],
    history: list[dict[str, Any]],
    cleared_malformed: list[tuple[str, str]],
    stamp: datetime,
) -> None:
    """Write the updated rows, their field history, the change log, and forget the malformed
    values the updates replaced."""
    cols = [r[0] for r in con.execute(f"DESCRIBE {q(api_name)}").fetchall()]
    frame = pd.DataFrame(list(new_rows.values()))[cols]
    con.register("_rows", frame)
    con.execute(f"DELETE FROM {q(api_name)} WHERE Id IN (SELECT Id FROM _rows)")
    con.execute(f"INSERT INTO {q(api_name)} BY NAME SELECT * FROM _rows")
    con.unregister("_rows")
    seq0 = con.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchall()[0][0]
    log = [(api_name, rid, "update") for rid in new_rows]
    if history:
        first = _next_number(con, "OpportunityFieldHistory", "017DM")
        for k, h in enumerate(history):
            h["Id"] = f"017DM{first + k:013d}"
        con.register("_hist", pd.DataFrame(history))
        con.execute('INSERT INTO "OpportunityFieldHistory" BY NAME SELECT * FROM _hist')
        con.unregister("_hist")
        log += [("OpportunityFieldHistory", h["Id"], "insert") for h in history]
    con.executemany(
        "INSERT INTO change_log VALUES (?, ?, ?, ?, ?, 'api')",
        [(seq0 + k + 1, o, r, t, stamp) for k, (o, r, t) in enumerate(log)],
    )
    if cleared_malformed:
        con.executemany(
            "DELETE FROM malformed_values WHERE api_name = ? AND Id = ? AND field = ?",
            [(api_name, r, f) for r, f in cleared_malformed],
        )


def _next_number(con: duckdb.DuckDBPyConnection, api: str, prefix: str) -> int:
    row = con.execute(f"SELECT max(Id) FROM {q(api)} WHERE Id LIKE ?", [prefix + "%"]).fetchall()[0][0]
    return (int(row[5:]) if row else 0) + 1
