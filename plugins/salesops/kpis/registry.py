"""The metric registry (include/config/metrics.yaml): one governed definition per metric.

Packs and dashboards call :func:`definition` to print the definition next to a number and
:func:`get_metric` to find the model and column a number comes from, so two reports can never
disagree about what a metric means.

Usage::

    from salesops.kpis.registry import definition, get_metric
    print(definition("win_rate_by_count"))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesops.config import ConfigError, load_yaml, policy

if TYPE_CHECKING:
    from salesops.warehouse.core import Warehouse

UNITS = ("currency", "count", "ratio", "multiple", "days", "hours")
COMPARATORS = (">=", "<=", ">", "<", "==")
REQUIRED = ("name", "label", "definition", "grain", "model", "column", "unit", "owner")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ConfigError):
    """metrics.yaml is malformed or points at a model/column that does not exist."""


@dataclass(frozen=True)
class Target:
    value: float
    comparator: str
    source: str  # "metrics.yaml" or the policy key it was read from

    def met(self, actual: float | None) -> bool | None:
        """Whether ``actual`` meets the target (None when there is no value)."""
        if actual is None:
            return None
        return {
            ">=": actual >= self.value,
            "<=": actual <= self.value,
            ">": actual > self.value,
            "<": actual < self.value,
            "==": actual == self.value,
        }[self.comparator]


@dataclass(frozen=True)
class Metric:
    """One metric of the registry."""

    name: str
    label: str
    definition: str
    grain: str
    model: str
    column: str
    unit: str
    owner: str
    filters: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    denominator: str | None = None
    rows: str | None = None
    target: Target | None = None

    @property
    def table(self) -> str:
        return f"marts.{self.model}"

    def describe(self) -> str:
        """The definition as packs print it next to the number (one paragraph, plain text)."""
        parts = [f"{self.label}: {self.definition}"]
        if self.denominator:
            parts.append(f"Denominator: {self.denominator}.")
        if self.exclusions:
            parts.append("Excludes: " + "; ".join(self.exclusions) + ".")
        if self.target is not None:
            parts.append(f"Target: {self.target.comparator} {self.target.value:g} ({self.target.source}).")
        parts.append(f"Source: {self.table}.{self.column}.")
        return " ".join(parts)


def _resolve_target(raw: Any, where: str) -> Target | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("comparator") not in COMPARATORS:
        raise RegistryError(
            f"{where}.target: expected {{value|from, comparator in {COMPARATORS}}}, got {raw!r}"
        )
    if "from" in raw:
        path = str(raw["from"]).split(".")
        try:
            value: Any = policy(path[0])
            for key in path[1:]:
                value = value[key]
        except (ConfigError, KeyError, TypeError) as exc:
            raise RegistryError(
                f"{where}.target.from: {raw['from']!r} is not a key of include/config/{path[0]}.yaml"
            ) from exc
        source = f"{path[0]}.yaml {'.'.join(path[1:])}"
    else:
        value, source = raw.get("value"), "metrics.yaml"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RegistryError(f"{where}.target: expected a number, got {value!r}")
    return Target(float(value), raw["comparator"], source)


def _str_tuple(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise RegistryError(f"{where}: expected a list of strings, got {raw!r}")
    return tuple(raw)


def parse_registry(data: dict[str, Any], known_models: set[str] | None = None) -> dict[str, Metric]:
    """Validate the parsed metrics.yaml.

    Args:
        data: the YAML mapping.
        known_models: model names that exist (default: the discovered KPI models).

    Raises:
        RegistryError: naming the metric and the field that is wrong.
    """
    if known_models is None:
        from salesops.kpis.models import discover

        known_models = {m.name for m in discover()}
    items = data.get("metrics")
    if not isinstance(items, list) or not items:
        raise RegistryError("metrics.yaml: expected a non-empty list under 'metrics'")
    out: dict[str, Metric] = {}
    for i, raw in enumerate(items):
        where = f"metrics.yaml metrics[{i}]" + (f" ({raw.get('name')})" if isinstance(raw, dict) else "")
        if not isinstance(raw, dict):
            raise RegistryError(f"{where}: expected a mapping")
        missing = [k for k in REQUIRED if not raw.get(k)]
        if missing:
            raise RegistryError(f"{where}: missing {missing}")
        if not _NAME.match(raw["name"]):
            raise RegistryError(f"{where}: name must be snake_case")
        if raw["name"] in out:
            raise RegistryError(f"{where}: metric {raw['name']!r} declared twice")
        if raw["unit"] not in UNITS:
            raise RegistryError(f"{where}: unit {raw['unit']!r} not one of {UNITS}")
        if raw["model"] not in known_models:
            raise RegistryError(
                f"{where}: model {raw['model']!r} is not a KPI model (include/sql/kpis/models/)"
            )
        if not _NAME.match(raw["column"]):
            raise RegistryError(f"{where}: column {raw['column']!r} is not a plain column name")
        if raw.get("rows") is not None and ";" in str(raw["rows"]):
            raise RegistryError(f"{where}: rows must be a single SQL condition")
        out[raw["name"]] = Metric(
            name=raw["name"],
            label=raw["label"],
            definition=" ".join(str(raw["definition"]).split()),
            grain=raw["grain"],
            model=raw["model"],
            column=raw["column"],
            unit=raw["unit"],
            owner=raw["owner"],
            filters=_str_tuple(raw.get("filters"), f"{where}.filters"),
            exclusions=_str_tuple(raw.get("exclusions"), f"{where}.exclusions"),
            denominator=raw.get("denominator"),
            rows=raw.get("rows"),
            target=_resolve_target(raw.get("target"), where),
        )
    return out


@lru_cache(maxsize=2)
def load_registry(config_dir: Path | None = None) -> dict[str, Metric]:
    """All metrics of include/config/metrics.yaml, validated, by name, in file order."""
    return parse_registry(load_yaml("metrics.yaml", config_dir))


def get_metric(name: str) -> Metric:
    """One metric; an unknown name is an error that lists the known ones."""
    registry = load_registry()
    if name not in registry:
        raise RegistryError(f"unknown metric {name!r}; metrics.yaml defines {sorted(registry)}")
    return registry[name]


def definition(name: str) -> str:
    """The plain-language definition of a metric, with denominator, exclusions, target and source."""
    return get_metric(name).describe()


def validate_against_warehouse(wh: Warehouse, registry: dict[str, Metric] | None = None) -> list[str]:
    """After a build: every metric's model table and column exist. Returns the problems (empty = fine)."""
    problems = []
    columns: dict[str, set[str]] = {}
    for metric in (registry or load_registry()).values():
        if metric.table not in columns:
            columns[metric.table] = set(wh.columns(metric.table)) if wh.table_exists(metric.table) else set()
        if not columns[metric.table]:
            problems.append(f"{metric.name}: table {metric.table} does not exist")
        elif metric.column not in columns[metric.table]:
            problems.append(f"{metric.name}: {metric.table} has no column {metric.column!r}")
    return problems
