"""Policy: typed, validated access to every file of include/config, with an overlay folder.

Every module of the library reads policy through this package (directly, or through a thin
adapter such as :func:`salesops.config.get_object`), so each file is parsed and validated once
per process, the same way everywhere.

Usage::

    from salesops import policy

    policy.stages().stages[0].name           # typed model of stages.yaml
    policy.raw("hygiene")["email"]["pattern"]  # the merged mapping, for dict-style readers
    policy.reset()                           # tests: forget cached policy (e.g. after setenv)

Overlay: ``SALESOPS_CONFIG_DIR=/data/salesops-config`` names a folder that holds only what differs
from include/config. ``/data/salesops-config/stages.yaml`` with ``picklists: {lead_source: [Web]}``
replaces that one list and keeps everything else of include/config/stages.yaml. Mappings merge key
by key at any depth; lists and scalars replace whole (an overlay ``stages:`` list is the new stage
list). A validation error names the file that set the bad value (the overlay or include/config),
the key path, the value and what was expected.
"""

from __future__ import annotations

from pathlib import Path

from salesops.policy.errors import ConfigError
from salesops.policy.loader import (
    ENV_VAR,
    base_dir,
    load,
    on_reset,
    overlay_dir,
    raw,
    reset,
    typed,
    validate,
    validate_all,
)
from salesops.policy.merge import deep_merge
from salesops.policy.models import (
    FILES,
    BulkUpdatesPolicy,
    CalendarPolicy,
    DemoPolicy,
    HubspotPolicy,
    HygienePolicy,
    KpisPolicy,
    MarketoPolicy,
    MetricsPolicy,
    MonitoringPolicy,
    ObjectsPolicy,
    PacksPolicy,
    QualityPolicy,
    SalesforcePolicy,
    StagesPolicy,
    TerritoriesPolicy,
    TerritoryMapPolicy,
)

Overlay = Path | None | bool


def objects(overlay: Overlay = True) -> ObjectsPolicy:
    return typed(ObjectsPolicy, "objects", overlay)


def stages(overlay: Overlay = True) -> StagesPolicy:
    return typed(StagesPolicy, "stages", overlay)


def calendar(overlay: Overlay = True) -> CalendarPolicy:
    return typed(CalendarPolicy, "calendar", overlay)


def hygiene(overlay: Overlay = True) -> HygienePolicy:
    return typed(HygienePolicy, "hygiene", overlay)


def territories(overlay: Overlay = True) -> TerritoriesPolicy:
    return typed(TerritoriesPolicy, "territories", overlay)


def territory_map(overlay: Overlay = True) -> TerritoryMapPolicy:
    return typed(TerritoryMapPolicy, "territory_map", overlay)


def kpis(overlay: Overlay = True) -> KpisPolicy:
    return typed(KpisPolicy, "kpis", overlay)


def metrics(overlay: Overlay = True) -> MetricsPolicy:
    return typed(MetricsPolicy, "metrics", overlay)


def quality(overlay: Overlay = True) -> QualityPolicy:
    return typed(QualityPolicy, "quality", overlay)


def packs(overlay: Overlay = True) -> PacksPolicy:
    return typed(PacksPolicy, "packs", overlay)


def bulk_updates(overlay: Overlay = True) -> BulkUpdatesPolicy:
    return typed(BulkUpdatesPolicy, "bulk_updates", overlay)


def demo(overlay: Overlay = True) -> DemoPolicy:
    return typed(DemoPolicy, "demo", overlay)


def monitoring(overlay: Overlay = True) -> MonitoringPolicy:
    return typed(MonitoringPolicy, "monitoring", overlay)


def salesforce(overlay: Overlay = True) -> SalesforcePolicy:
    return typed(SalesforcePolicy, "sources/salesforce", overlay)


def hubspot(overlay: Overlay = True) -> HubspotPolicy:
    return typed(HubspotPolicy, "sources/hubspot", overlay)


def marketo(overlay: Overlay = True) -> MarketoPolicy:
    return typed(MarketoPolicy, "sources/marketo", overlay)


__all__ = [
    "ENV_VAR",
    "FILES",
    "ConfigError",
    "base_dir",
    "bulk_updates",
    "calendar",
    "deep_merge",
    "demo",
    "hubspot",
    "hygiene",
    "kpis",
    "load",
    "marketo",
    "metrics",
    "monitoring",
    "objects",
    "on_reset",
    "overlay_dir",
    "packs",
    "quality",
    "raw",
    "reset",
    "salesforce",
    "stages",
    "territories",
    "territory_map",
    "typed",
    "validate",
    "validate_all",
]
