"""Which field each stages.yaml picklist governs.

The named picklists keep their historical names (``opportunity_type`` = Opportunity.Type, ...); a
picklist named ``<Object>.<Field>`` (``Opportunity.Industry__c``, ``Account.Industry``) governs
that field. The profile reports every such field's values against its list; the quality check
opp_invalid_picklist validates Opportunity Type and LeadSource.
"""

from __future__ import annotations

NAMED_PICKLISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "opportunity_type": (("Opportunity", "Type"),),
    "lead_source": (("Opportunity", "LeadSource"), ("Lead", "LeadSource"), ("Contact", "LeadSource")),
    "lead_status": (("Lead", "Status"),),
    "loss_reason": (("Opportunity", "Loss_Reason__c"),),
}


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
