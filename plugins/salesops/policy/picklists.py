"""Which field each stages.yaml picklist governs.

The named picklists keep their historical names (``opportunity_type`` = Opportunity.Type, ...); a
picklist named ``<Object>.<Field>`` (``Opportunity.Industry__c``, ``Account.Industry``) governs
that field. The profile reports every such field's values against its list (and the values of
every standard picklist field below, declared or not, proposing a list for each). The quality
checks: opp_invalid_picklist / policy_unknown_value for Opportunity fields;
``<object>_unknown_picklist_value`` (blocker) for every picklist declared on a Lead, Account or
Contact field (salesops.quality.picklist_checks).
"""

from __future__ import annotations

NAMED_PICKLISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "opportunity_type": (("Opportunity", "Type"),),
    "lead_source": (("Opportunity", "LeadSource"), ("Lead", "LeadSource"), ("Contact", "LeadSource")),
    "lead_status": (("Lead", "Status"),),
    "loss_reason": (("Opportunity", "Loss_Reason__c"),),
}


# Salesforce's standard picklist fields: the profile reports their values and proposes a list for
# each one the export fills, under its stages.yaml name (or "<Object>.<Field>"), declared or not.
# Only those the object manifest (include/config/objects.yaml) carries are read.
STANDARD_PICKLIST_FIELDS: tuple[tuple[str, str], ...] = (
    ("Opportunity", "Type"),
    ("Opportunity", "LeadSource"),
    ("Opportunity", "Loss_Reason__c"),
    ("Lead", "Status"),
    ("Lead", "LeadSource"),
    ("Lead", "Industry"),
    ("Lead", "Rating"),
    ("Account", "Type"),
    ("Account", "Industry"),
    ("Account", "Rating"),
    ("Contact", "LeadSource"),
)


def picklist_name(obj: str, field: str, picklists: dict[str, list[str]]) -> str:
    """The stages.yaml name of the picklist governing ``obj.field``: the declared one, else the
    named picklist that would govern it, else ``"<Object>.<Field>"``."""
    declared = picklist_fields(picklists).get((obj, field))
    if declared is not None:
        return declared[0]
    for name, pairs in NAMED_PICKLISTS.items():
        if (obj, field) in pairs:
            return name
    return f"{obj}.{field}"


def picklist_fields(picklists: dict[str, list[str]]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(object api name, field) -> (the picklist's name in stages.yaml, its allowed values)."""
    out: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for name, values in picklists.items():
        if "." in name:
            obj, fld = name.split(".", 1)
            out[(obj, fld)] = (name, list(values))
        for pair in NAMED_PICKLISTS.get(name, ()):
            out.setdefault(pair, (name, list(values)))
    return out
