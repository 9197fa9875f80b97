"""The metric registry (include/config/metrics.yaml): one governed definition per metric.

Packs and dashboards call :func:`definition` to print the definition next to a number and
:func:`get_metric` to find the model and column a number comes from, so two reports can never
disagree about what a metric means.

Usage::

    from salesops.kpis.registry import definition, get_metric
    print(definition("win_rate_by_count"))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesops import policy as _policy
from salesops.config import ConfigError, load_yaml, policy
from salesops.policy.models.kpis import MetricsPolicy, TargetModel

if TYPE_CHECKING:
    from salesops.warehouse.core import Warehouse


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
    numerator: str | None = None
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


def _resolve_target(raw: TargetModel | None, where: str) -> Target | None:
    if raw is None:
        return None
    if raw.from_ is not None:
        path = raw.from_.split(".")
        try:
            value: Any = policy(path[0])
            for key in path[1:]:
                value = value[key]
        except (ConfigError, KeyError, TypeError) as exc:
            raise RegistryError(
                f"{where}.target.from: got {raw.from_!r} (no such key); expected a key path of a file in include/config"
                f" (e.g. kpis.coverage.target_ratio)"
            ) from exc
        source = f"{path[0]}.yaml {'.'.join(path[1:])}"
    else:
        value, source = raw.value, "metrics.yaml"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RegistryError(f"{where}.target: got {value!r}; expected a number")
    return Target(float(value), raw.comparator, source)


def parse_registry(data: dict[str, Any], known_models: set[str] | None = None) -> dict[str, Metric]:
    """Validate the parsed metrics.yaml (shape by :mod:`salesops.policy`, models by discovery).

    Args:
        data: the YAML mapping.
        known_models: model names that exist (default: the discovered KPI models).

    Raises:
        RegistryError: naming the metric and the field that is wrong.
    """
    if known_models is None:
        from salesops.kpis.models import discover

        known_models = {m.name for m in discover()}
    try:
        model: MetricsPolicy = _policy.validate("metrics", data)
    except ConfigError as exc:
        raise RegistryError(str(exc)) from None
    out: dict[str, Metric] = {}
    for i, m in enumerate(model.metrics):
        where = f"metrics.yaml: metrics[{i}]"
        if m.model not in known_models:
            raise RegistryError(
                f"{where}.model: got {m.model!r} (metric {m.name}); expected a KPI model (include/sql/kpis/models/)"
            )
        out[m.name] = Metric(
            name=m.name,
            label=m.label,
            definition=" ".join(m.definition.split()),
            grain=m.grain,
            model=m.model,
            column=m.column,
            unit=m.unit,
            owner=m.owner,
            filters=tuple(m.filters),
            exclusions=tuple(m.exclusions),
            numerator=m.numerator,
            denominator=m.denominator,
            rows=m.rows,
            target=_resolve_target(m.target, where),
        )
    return out


@lru_cache(maxsize=2)
def load_registry(config_dir: Path | None = None) -> dict[str, Metric]:
    """All metrics of include/config/metrics.yaml, validated, by name, in file order."""
    return parse_registry(load_yaml("metrics.yaml", config_dir))


_policy.on_reset(load_registry.cache_clear)


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
