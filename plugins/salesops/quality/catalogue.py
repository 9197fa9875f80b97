"""The check catalogue (include/config/quality.yaml) and the policy context the checks render with.

Everything a check tests comes from the policy files: stage order, forecast categories and
required fields from stages.yaml, hygiene thresholds from hygiene.yaml, segments, regions,
routing rules and SLA hours from territories.yaml. quality.yaml only adds which checks run, their
severity and target, duplicate matching, freshness windows and the scorecard/ticket rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from salesops import policy as _policy
from salesops.config import ConfigError, get_object, object_manifest, policy
from salesops.policy import deep_merge
from salesops.policy.models.quality import QualityPolicy
from salesops.quality.products import products_context


@dataclass(frozen=True)
class CheckSpec:
    """One entry of the check catalogue."""

    id: str
    object: str  # manifest name, or "*" for checks that span every object
    engine: str
    severity: str
    target: float  # highest failed rate (failed / evaluated) at which the check still passes
    scopes: tuple[str, ...] = ()
    dimension: str | None = None
    queue: bool = True
    description: str = ""
    # manifest object name -> API fields the check cannot be evaluated without (quality.yaml `needs`)
    needs: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def api_name(self) -> str:
        return get_object(self.object).api_name if self.object != "*" else "*"


@dataclass
class QualityConfig:
    """quality.yaml parsed and validated, plus the policy files it leans on."""

    checks: dict[str, CheckSpec]
    raw: dict[str, Any]
    stages: dict[str, Any] = field(default_factory=dict)
    hygiene: dict[str, Any] = field(default_factory=dict)
    territories: dict[str, Any] = field(default_factory=dict)
    calendar: dict[str, Any] = field(default_factory=dict)
    model: QualityPolicy | None = None  # the typed quality.yaml

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"quality.yaml: {name!r} must be a mapping")
        return value

    def with_overrides(self, overrides: dict[str, Any] | None) -> QualityConfig:
        """A copy with ``overrides`` deep-merged into quality.yaml (tests, what-if runs)."""
        if not overrides:
            return self
        merged = deep_merge(self.raw, overrides)
        return parse_config(merged, self.stages, self.hygiene, self.territories, self.calendar)


def _parse_needs(raw: Any, where: str, manifest: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}.needs: expected a mapping object: [ApiField, ...], got {raw!r}")
    out = []
    for obj, fields in raw.items():
        if obj not in manifest:
            raise ConfigError(f"{where}.needs: object {obj!r} is not in objects.yaml ({sorted(manifest)})")
        fields = list(fields or [])
        known = set(manifest[obj].api_fields)
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise ConfigError(
                f"{where}.needs.{obj}: fields {unknown} are not fields of {manifest[obj].api_name} "
                f"in objects.yaml"
            )
        out.append((str(obj), tuple(str(f) for f in fields)))
    return tuple(out)


def parse_config(
    raw: dict[str, Any],
    stages: dict[str, Any],
    hygiene: dict[str, Any],
    territories: dict[str, Any],
    calendar: dict[str, Any],
) -> QualityConfig:
    """Validate quality.yaml (shape by :mod:`salesops.policy`) against the object manifest."""
    model: QualityPolicy = _policy.validate("quality", raw)
    manifest = object_manifest()
    from salesops.quality.picklist_checks import validate_targets

    validate_targets(stages.get("picklists") or {})
    checks: dict[str, CheckSpec] = {}
    for check_id, spec in model.checks.items():
        if spec.object != "*" and spec.object not in manifest:
            raise ConfigError(
                f"quality.yaml: checks.{check_id}.object: got {spec.object!r}; expected an object of "
                f"objects.yaml ({sorted(manifest)}) or '*'"
            )
        checks[check_id] = CheckSpec(
            id=check_id,
            object=spec.object,
            engine=spec.engine,
            severity=spec.severity,
            target=float(spec.target),
            scopes=tuple(spec.scopes),
            dimension=spec.dimension,
            queue=spec.queue,
            description=spec.description,
            needs=_parse_needs(spec.needs, f"quality.yaml checks.{check_id}", manifest),
        )
    return QualityConfig(checks, raw, stages, hygiene, territories, calendar, model)


def load_config(overrides: dict[str, Any] | None = None) -> QualityConfig:
    """quality.yaml + stages/hygiene/territories/calendar, validated; ``overrides`` deep-merged."""
    cfg = parse_config(
        policy("quality"),
        policy("stages"),
        policy("hygiene"),
        policy("territories"),
        policy("calendar"),
    )
    return cfg.with_overrides(overrides)


def sql_literal(value: Any) -> str:
    """A policy value as a SQL literal (policy values are data from our own YAML, quoted safely)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def policy_context(cfg: QualityConfig) -> dict[str, Any]:
    """The Jinja context every quality SQL file renders with: policy values as SQL literals."""
    stages = cfg.stages["stages"]
    hyg = cfg.hygiene
    return {
        "stages": [
            {
                "name": sql_literal(s["name"]),
                "order": int(s["order"]),
                "is_closed": sql_literal(bool(s["is_closed"])),
                "is_won": sql_literal(bool(s["is_won"])),
            }
            for s in stages
        ],
        "max_pushes": int(hyg["close_date"]["max_pushes"]),
        "forecast_categories": [sql_literal(c) for c in cfg.stages.get("forecast_categories") or []],
        "lost_zero_allowed": sql_literal(bool(hyg["amount"].get("closed_lost_zero_allowed", False))),
        "blocking_picklists": blocking_picklists(cfg),
        "object_picklists": object_picklists(cfg),
        "products": products_context(),  # the product catalogue checks (issue 15)
        # the amount checks compare in the corporate currency (_currency.sql)
        **currency_context(),
    }


def currency_context() -> dict[str, Any]:
    """What include/sql/_currency.sql needs (quality checks, the territory preview): the policy's
    corporate currency (used when the source names none) and the relation it reads rates from."""
    return {
        "corporate_currency_policy": sql_literal(_policy.kpis().currency.corporate),
        "currency_relation": "staged_currency",
    }


def blocking_picklists(cfg: QualityConfig) -> list[dict[str, Any]]:
    """The Opportunity fields whose picklist is in stages.yaml ``blocking_picklists``, as
    {field, column, values} for include/sql/quality/checks/policy_unknown_value.sql."""
    from salesops.policy.picklists import picklist_fields

    wanted = set(cfg.stages.get("blocking_picklists") or [])
    opp = {f.api_name: f for f in get_object("opportunity").fields}
    out = []
    for (obj, api), (name, values) in picklist_fields(cfg.stages.get("picklists") or {}).items():
        if obj == "Opportunity" and name in wanted and api in opp and values:
            out.append(
                {
                    "field": sql_literal(api),
                    "column": opp[api].column,
                    "values": [sql_literal(v) for v in values],
                }
            )
    return sorted(out, key=lambda d: d["field"])


def object_picklists(cfg: QualityConfig) -> dict[str, list[dict[str, Any]]]:
    """Manifest object (other than Opportunity) -> the picklists stages.yaml declares on its
    fields, as {api, field, column, values, allowed} for include/sql/quality/checks/<object>_unknown_picklist_value.sql
    (Lead Status and LeadSource, Contact LeadSource by name; any ``<Object>.<Field>``)."""
    from salesops.policy.picklists import picklist_fields

    manifest = object_manifest()
    by_api = {spec.api_name: spec for spec in manifest.values()}
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in manifest if name != "opportunity"}
    for (obj, api), (_name, values) in sorted(picklist_fields(cfg.stages.get("picklists") or {}).items()):
        spec = by_api.get(obj)
        if spec is None or spec.name == "opportunity" or api not in spec.api_fields or not values:
            continue
        out[spec.name].append(
            {
                "api": api,
                "field": sql_literal(api),
                "column": spec.field(api).column,
                "values": [sql_literal(v) for v in values],
                "allowed": sql_literal(", ".join(values)),
            }
        )
    return out


def freshness_window_hours(cfg: QualityConfig, object_name: str) -> float:
    fresh = cfg.section("freshness")
    return float((fresh.get("windows_hours") or {}).get(object_name, fresh.get("default_window_hours", 26)))
