"""Which checks the loaded data can support: "not evaluated" instead of a number it cannot back.

A check declares the data it needs (quality.yaml ``needs``: object -> API fields). When a needed
object has no records in staging (the source has no such object: no finance bookings, no field
history) or a needed field is empty in every row (not in the export, or not mapped), the check is
``not_evaluated`` with that reason: it neither passes nor counts failures, and the scorecard,
packs and Data Docs say "n/a - <reason>".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from salesops.config import get_object
from salesops.quality import _db
from salesops.warehouse.core import Warehouse

Needs = Iterable[tuple[str, Iterable[str]]]


@dataclass
class Availability:
    """Rows per manifest object in staging and filled rows per (object, API field)."""

    rows: dict[str, int] = field(default_factory=dict)
    filled: dict[tuple[str, str], int] = field(default_factory=dict)
    # object -> API fields missing from every loaded batch with rows (the source does not send them)
    undelivered: dict[str, set[str]] = field(default_factory=dict)

    def empty_fields(self, obj: str, fields: Iterable[str]) -> list[str]:
        return [f for f in fields if self.filled.get((obj, f), 0) == 0]

    def reason(self, needs: Needs, *, empty_counts: bool = True) -> str | None:
        """Why data with these needs cannot be evaluated, or None when it can.

        Args:
            needs: (manifest object, API fields) pairs.
            empty_counts: a field empty in every row makes it unevaluable (default). False for
                rules where an empty field IS the finding (required fields): then only a field the
                source does not deliver at all does.
        """
        for obj, fields in needs:
            api = get_object(obj).api_name
            if self.rows.get(obj, 0) == 0:
                return f"no {api} records loaded (the source has none, or does not export {api})"
            fields = list(fields)
            missing = [f for f in fields if f in self.undelivered.get(obj, set())]
            if missing:
                names = ", ".join(f"{api}.{f}" for f in missing)
                return f"{names} not in the source (not exported, or not mapped)"
            empty = self.empty_fields(obj, fields) if empty_counts else []
            if empty:
                names = ", ".join(f"{api}.{f}" for f in empty)
                verb = "is" if len(empty) == 1 else "are"
                return f"{names} {verb} empty in every row (not in the source, or not mapped)"
        return None


def measure(wh: Warehouse, wanted: dict[str, set[str]]) -> Availability:
    """Count rows and filled values of the wanted fields, one query per object."""
    out = Availability()
    if wh.table_exists("ops.load_audit"):
        batches = _db.fetch_df(wh, "quality/undelivered_fields.sql")
        for name, group in batches.groupby("object"):
            lists = [set(filter(None, str(v or "").split(","))) for v in group["schema_missing"]]
            out.undelivered[str(name)] = set.intersection(*lists) if lists else set()
    for name, api_fields in wanted.items():
        obj = get_object(name)
        if not wh.table_exists(obj.staging_table):
            out.rows[name] = 0
            continue
        cols: list[dict[str, Any]] = []
        for i, api in enumerate(sorted(api_fields)):
            spec = obj.field(api)
            cols.append(
                {"alias": f"f_{i}", "column": spec.column, "text": spec.type in ("string", "id"), "api": api}
            )
        row = _db.fetch_df(wh, "quality/field_fill.sql", table=obj.staging_table, fill_columns=cols).iloc[0]
        out.rows[name] = int(row["n_rows"])
        for c in cols:
            out.filled[(name, str(c["api"]))] = int(row[c["alias"]])
    return out
