"""Exception rows in words a user reads: the field by its label, the wrong value, the expected one.

``quality.run_exception.detail`` stays the machine key (field API name, stage, match kind, value)
the queue, the gate and the bulk-update plans group by. ``message`` is written beside it by
include/sql/quality/exception_messages.sql (set-wise, after the run's exceptions are written):

    Forecast Category 'Closed' is not allowed at Stage 'Engaging': expected Pipeline or Best Case
    Amount 0: expected more than 0            Type 'Upsell' is not in the picklist: expected one of ...
    Opportunity Owner 'Rep Omega' matches no user: expected a user id, user name or e-mail ...

Labels: the CSV column map's header for the field (what the customer's export calls it, kept by
the loader in ``ops.field_label``), else the API name spelt out (``CloseDate`` -> "Close Date",
``Loss_Reason__c`` -> "Loss Reason").
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from salesops.config import object_manifest

if TYPE_CHECKING:
    from salesops.quality.catalogue import QualityConfig
    from salesops.warehouse.core import Warehouse

_SPECIAL = {"StageName": "Stage", "ForecastCategoryName": "Forecast Category", "OwnerId": "Owner"}


def humanise(api_name: str) -> str:
    """``CloseDate`` -> "Close Date", ``Loss_Reason__c`` -> "Loss Reason", ``AccountId`` -> "Account"."""
    if api_name in _SPECIAL:
        return _SPECIAL[api_name]
    name = re.sub(r"__c$", "", api_name).replace("_", " ")
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).strip()
    return re.sub(r" Id$", "", name) if name != "Id" else name


def field_labels(wh: Warehouse) -> dict[tuple[str, str], str]:
    """(object API name, field API name) -> label: the export's own header where the loader kept
    one (ops.field_label), else the API name spelt out."""
    out = {
        (obj.api_name, f.api_name): humanise(f.api_name)
        for obj in object_manifest().values()
        for f in obj.fields
    }
    if wh.table_exists("ops.field_label"):
        for r in wh.query("select object, api_name, label from ops.field_label"):
            out[(r["object"], r["api_name"])] = r["label"]
    return out


def _num(x: Any) -> str:
    """A policy number as text inside a SQL string literal: 10000000 -> "10,000,000"."""
    v = float(x)
    return f"{int(v):,}" if v.is_integer() else f"{v:,}"


def message_context(wh: Warehouse, cfg: QualityConfig, as_of: date) -> dict[str, Any]:
    """The Jinja context of include/sql/quality/exception_messages.sql (values as SQL literals)."""
    from salesops.policy.picklists import picklist_fields
    from salesops.quality.catalogue import sql_literal

    labels = field_labels(wh)
    lit = {k: sql_literal(v) for k, v in labels.items()}
    stages = cfg.stages["stages"]
    hyg = cfg.hygiene
    opp_fields = {f.api_name: f.column for f in object_manifest()["opportunity"].fields}
    picklist_rules = []
    policy_lists = [
        {
            "field": sql_literal("StageName"),
            "label": lit[("Opportunity", "StageName")],
            "allowed": sql_literal(", ".join(s["name"] for s in stages)),
        },
        {
            "field": sql_literal("ForecastCategoryName"),
            "label": lit[("Opportunity", "ForecastCategoryName")],
            "allowed": sql_literal(", ".join(cfg.stages.get("forecast_categories") or [])),
        },
    ]
    for (obj, api), (_name, values) in sorted(picklist_fields(cfg.stages.get("picklists") or {}).items()):
        if obj != "Opportunity" or api not in opp_fields:
            continue
        rule = {
            "field": sql_literal(api),
            "label": lit[("Opportunity", api)],
            "column": opp_fields[api],
            "allowed": sql_literal(", ".join(values)),
        }
        picklist_rules.append(rule)
        policy_lists.append(rule)
    # Lead/Account/Contact picklists (<object>_unknown_picklist_value), by object and field
    from salesops.quality.catalogue import object_picklists

    manifest = object_manifest()
    object_picklist_rules = [
        {
            "object": sql_literal(manifest[name].api_name),
            "field": p["field"],
            "label": lit[(manifest[name].api_name, p["api"])],
            "allowed": p["allowed"],
        }
        for name, plists in object_picklists(cfg).items()
        for p in plists
    ]
    step_order = int(hyg["next_step"]["required_from_stage_order"])
    step_stage = next(
        (s["name"] for s in sorted(stages, key=lambda s: s["order"]) if s["order"] >= step_order), ""
    )
    return {
        "labels": lit,
        "opp_labels": [(api, lit[("Opportunity", api)]) for api in opp_fields],
        "check_texts": [(c.id, sql_literal(c.description or c.id)) for c in cfg.checks.values()],
        "stage_fc": [
            {"stage": sql_literal(s["name"]), "allowed": sql_literal(" or ".join(s["forecast_categories"]))}
            for s in stages
        ],
        "picklist_rules": picklist_rules,
        "policy_lists": policy_lists,
        "object_picklist_rules": object_picklist_rules,
        "amount_min": _num(hyg["amount"]["min_exclusive"]),
        "amount_max": _num(hyg["amount"]["outlier_max"]),
        "past_due_rule": sql_literal(
            f"expected {as_of - timedelta(days=int(hyg['close_date'].get('past_due_grace_days', 0)))} "
            f"or later on an open deal (as of {as_of})"
        ),
        "stale_days": int(hyg["stale_opportunity"]["days_without_activity"]),
        "next_step_stage": sql_literal(step_stage),
    }
