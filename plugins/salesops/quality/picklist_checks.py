"""Picklists of Lead, Account and Contact checked against the policy (issue 15).

stages.yaml ``picklists`` declares the values a field may hold: by name (``lead_status`` = Lead
Status, ``lead_source`` = Lead/Contact LeadSource) or as ``<Object>.<Field>`` (``Account.Industry``,
``Lead.Rating``, ...). For each object the check ``<object>_unknown_picklist_value`` (quality.yaml,
severity blocker, target 0) runs include/sql/quality/checks/<object>_unknown_picklist_value.sql: a
value the policy does not list means the policy does not describe this CRM, so the gate stops and
names each value, its count and sample record ids (like an unknown stage on an Opportunity).

The check is ``not_evaluated`` (never passed) when the policy declares no picklist for the
object's fields, or when every declared field is empty in every row (not exported / not mapped);
a declared field the source does not fill is skipped while the others are checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesops.config import ConfigError, get_object, object_manifest

if TYPE_CHECKING:
    from salesops.quality.availability import Availability
    from salesops.quality.catalogue import CheckSpec, QualityConfig

CHECK_SUFFIX = "_unknown_picklist_value"


def checked_object(check: CheckSpec) -> str | None:
    """The manifest object a picklist check validates (None: not a picklist check)."""
    if check.id.endswith(CHECK_SUFFIX) and check.object != "*" and check.engine == "sql":
        return check.object
    return None


def declared_fields(cfg: QualityConfig, object_name: str) -> list[str]:
    """API fields of ``object_name`` that a stages.yaml picklist governs."""
    from salesops.quality.catalogue import object_picklists

    return [p["api"] for p in object_picklists(cfg).get(object_name, [])]


def wanted(cfg: QualityConfig) -> dict[str, set[str]]:
    """Fields whose fill the availability measure must count for the picklist checks."""
    out: dict[str, set[str]] = {}
    for check in cfg.checks.values():
        obj = checked_object(check)
        if obj is not None:
            out.setdefault(obj, set()).update(declared_fields(cfg, obj))
    return out


def not_evaluated_reason(check: CheckSpec, cfg: QualityConfig, avail: Availability) -> str | None:
    """Why a picklist check cannot be evaluated on the loaded data, or None when it can."""
    obj = checked_object(check)
    if obj is None:
        return None
    api = get_object(obj).api_name
    if avail.rows.get(obj, 0) == 0:
        return avail.reason([(obj, ())])
    fields = declared_fields(cfg, obj)
    if not fields:
        return (
            f"stages.yaml declares no picklist for any {api} field (add e.g. picklists: "
            f"{{{api}.<Field>: [values]}}; `make profile` proposes one from the export's values)"
        )
    if all(avail.filled.get((obj, f), 0) == 0 for f in fields):
        names = ", ".join(f"{api}.{f}" for f in fields)
        verb = "is" if len(fields) == 1 else "are"
        return f"{names} {verb} empty in every row (not in the source, or not mapped)"
    return None


def validate_targets(picklists: dict[str, list[str]]) -> None:
    """Every ``<Object>.<Field>`` picklist names a field of the object manifest, or the error says
    which key, what it named and what is expected (a misspelt name would silently check nothing)."""
    by_api = {spec.api_name: spec for spec in object_manifest().values()}
    for name in picklists:
        if "." not in name:
            continue
        obj, field = name.split(".", 1)
        spec = by_api.get(obj)
        if spec is None:
            raise ConfigError(
                f"stages.yaml: picklists.{name}: object {obj!r} is not in objects.yaml; expected "
                f"<Object>.<Field> with Object one of {sorted(by_api)}"
            )
        if field not in spec.api_fields:
            raise ConfigError(
                f"stages.yaml: picklists.{name}: {field!r} is not a field of {obj} in objects.yaml; "
                f"expected one of {sorted(spec.api_fields)}"
            )
