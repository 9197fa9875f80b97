"""Discover the KPI models (one SQL file each under include/sql/kpis/models/) and their dependencies.

Light on purpose: the KPI DAG calls :func:`discover` at parse time to generate one task per model,
so this module imports only the standard library and reads only the models' comment headers.

A model file starts with a header of ``-- key: value`` lines::

    -- depends_on: int_opportunity_enriched, dim_fiscal_calendar
    -- grain: close_fiscal_quarter, rollup_level, rollup_key
    -- materialized: table
    -- description: Open pipeline by the fiscal quarter of its close date.

``depends_on`` names other models or seed tables (everything the SQL reads from ``marts.``);
``grain`` the columns that are unique and not null together; ``materialized`` is ``table``
(``create or replace table marts.<model> as <select>``, the default) or ``snapshot``
(``delete`` + ``insert`` of the requested snapshot dates only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from salesops import paths

MODELS_SUBDIR = "kpis/models"
MATERIALIZATIONS = ("table", "snapshot")

# Seed tables the runner writes from include/config before any model runs.
SEEDS = (
    "kpi_context",
    "kpi_policy_list",
    "kpi_movement_comparison",
    "kpi_snapshot_request",
    "dim_stage",
    "dim_stage_required_field",
    "dim_forecast_category",
    "dim_fiscal_calendar",
    "dim_segment_band",
    "dim_country_region",
    "dim_routing_rule",
    "dim_routing_sla",
)

_HEADER = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*?)\s*$")
_MARTS_REF = re.compile(r"\bmarts\.([a-z_][a-z0-9_]*)", re.IGNORECASE)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ModelError(ValueError):
    """A model file is malformed or the dependency graph is inconsistent."""


@dataclass(frozen=True)
class Model:
    """One KPI model as its SQL file declares it."""

    name: str
    depends_on: tuple[str, ...]
    grain: tuple[str, ...]
    materialized: str
    description: str
    path: Path

    @property
    def table(self) -> str:
        """The qualified output table, e.g. ``marts.fct_pipeline_snapshot``."""
        return f"marts.{self.name}"

    @property
    def template(self) -> str:
        """The Jinja template name under include/sql/."""
        return f"{MODELS_SUBDIR}/{self.path.name}"

    @property
    def layer(self) -> str:
        """``int``, ``fct``, ``dim`` or ``agg`` (the name's prefix)."""
        return self.name.split("_", 1)[0]


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def parse_model(path: Path) -> Model:
    """Read one model file's header and check its declared dependencies against its body.

    Raises:
        ModelError: unknown header key or materialization, a bad name, or a ``marts.<table>``
            reference in the SQL that the header does not declare.
    """
    name = path.stem
    if not _NAME.match(name):
        raise ModelError(f"{path.name}: model name {name!r} is not snake_case")
    meta: dict[str, str] = {}
    body_lines = []
    in_header = True
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _HEADER.match(line) if in_header else None
        if m:
            key, value = m.groups()
            if key not in ("depends_on", "grain", "materialized", "description"):
                raise ModelError(f"{path.name}: unknown header key {key!r}")
            meta[key] = (meta.get(key, "") + " " + value).strip() if key == "description" else value
            continue
        if line.strip():
            in_header = False
        body_lines.append(line)
    materialized = meta.get("materialized", "table")
    if materialized not in MATERIALIZATIONS:
        raise ModelError(f"{path.name}: materialized {materialized!r} not one of {MATERIALIZATIONS}")
    depends_on = _split(meta.get("depends_on", ""))
    grain = _split(meta.get("grain", ""))
    if not grain:
        raise ModelError(f"{path.name}: missing '-- grain:' header (the columns unique together)")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.rstrip().endswith(";"):
            # The materialization wraps the file in one statement, and the script splitter cuts
            # at a ';' that ends a line (comments included).
            raise ModelError(f"{path.name}:{number}: a model is one select: no line may end with ';'")
    referenced = {r.lower() for r in _MARTS_REF.findall("\n".join(body_lines))}
    undeclared = sorted(referenced - set(depends_on) - {name})
    if undeclared:
        raise ModelError(
            f"{path.name}: reads marts.{undeclared[0]} but does not declare it in '-- depends_on:'"
        )
    return Model(name, depends_on, grain, materialized, meta.get("description", ""), path)


@lru_cache(maxsize=4)
def discover(models_dir: Path | None = None) -> tuple[Model, ...]:
    """All models in dependency order (ties broken by name, so the order is stable).

    Raises:
        ModelError: a dependency that is neither a model nor a seed, or a cycle.
    """
    folder = models_dir or (paths.SQL_DIR / MODELS_SUBDIR)
    models = {p.stem: parse_model(p) for p in sorted(folder.glob("*.sql"))}
    for model in models.values():
        for dep in model.depends_on:
            if dep not in models and dep not in SEEDS:
                raise ModelError(
                    f"{model.path.name}: depends on {dep!r}, which is neither a model nor a seed"
                )
    ordered: list[Model] = []
    done: set[str] = set()
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join(visiting[visiting.index(name) :] + [name])
            raise ModelError(f"dependency cycle: {cycle}")
        visiting.append(name)
        for dep in sorted(models[name].depends_on):
            if dep in models:
                visit(dep)
        visiting.pop()
        done.add(name)
        ordered.append(models[name])

    for name in sorted(models):
        visit(name)
    return tuple(ordered)


def get_model(name: str) -> Model:
    """One model by name."""
    for model in discover():
        if model.name == name:
            return model
    raise ModelError(f"unknown KPI model {name!r}; known: {[m.name for m in discover()]}")


# The DAG builds the models in one task per layer, in this order: dim_* and int_* (built from
# staging and the seeds), then the fct_* facts, then the agg_* marts. A task per model cost about
# 0.25 CPU-seconds of Airflow's own per-task work plus a DuckDB open and checkpoint each (31 models).
BUILD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("intermediate_models", ("dim", "int")),
    ("fact_models", ("fct",)),
    ("aggregate_models", ("agg",)),
)


def build_groups(models_dir: Path | None = None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The models grouped into the DAG's build tasks: ``((task_id, model names), ...)``, each
    group's models in dependency order and every dependency in the same or an earlier group.

    Raises:
        ModelError: a model whose layer (name prefix) belongs to no group, or one that depends on
            a model of a later group.
    """
    models = discover(models_dir)
    group_of: dict[str, int] = {}
    for model in models:
        index = next((i for i, (_, layers) in enumerate(BUILD_GROUPS) if model.layer in layers), None)
        if index is None:
            known = "; ".join(f"{task_id}: {'/'.join(layers)}" for task_id, layers in BUILD_GROUPS)
            raise ModelError(f"{model.path.name}: layer {model.layer!r} is in no build group ({known})")
        group_of[model.name] = index
    for model in models:
        for dep in model.depends_on:
            if dep in group_of and group_of[dep] > group_of[model.name]:
                raise ModelError(
                    f"{model.path.name}: depends on {dep}, which {BUILD_GROUPS[group_of[dep]][0]} builds "
                    f"after {BUILD_GROUPS[group_of[model.name]][0]}"
                )
    return tuple(
        (task_id, tuple(m.name for m in models if group_of[m.name] == i))
        for i, (task_id, _) in enumerate(BUILD_GROUPS)
    )


def model_dependencies(name: str) -> tuple[str, ...]:
    """The models (not seeds) ``name`` depends on directly."""
    known = {m.name for m in discover()}
    return tuple(d for d in get_model(name).depends_on if d in known)
