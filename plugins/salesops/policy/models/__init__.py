"""One pydantic model per policy file of include/config (the file name -> model table is FILES)."""

from __future__ import annotations

from pydantic import BaseModel

from salesops.policy.models.bulk_updates import BulkUpdatesPolicy
from salesops.policy.models.demo import DemoPolicy
from salesops.policy.models.kpis import KpisPolicy, MetricsPolicy
from salesops.policy.models.monitoring import MonitoringPolicy
from salesops.policy.models.objects import ObjectsPolicy
from salesops.policy.models.packs import PacksPolicy
from salesops.policy.models.products import ProductsPolicy
from salesops.policy.models.quality import QualityPolicy
from salesops.policy.models.sales import CalendarPolicy, HygienePolicy, StagesPolicy, TerritoriesPolicy
from salesops.policy.models.sources import HubspotPolicy, MarketoPolicy, SalesforcePolicy
from salesops.policy.models.territory_map import TerritoryMapPolicy

# Policy file (relative to include/config, without .yaml) -> its model. Every file there is here.
FILES: dict[str, type[BaseModel]] = {
    "objects": ObjectsPolicy,
    "stages": StagesPolicy,
    "calendar": CalendarPolicy,
    "hygiene": HygienePolicy,
    "territories": TerritoriesPolicy,
    "territory_map": TerritoryMapPolicy,
    "kpis": KpisPolicy,
    "metrics": MetricsPolicy,
    "quality": QualityPolicy,
    "packs": PacksPolicy,
    "bulk_updates": BulkUpdatesPolicy,
    "demo": DemoPolicy,
    "monitoring": MonitoringPolicy,
    "products": ProductsPolicy,
    "sources/salesforce": SalesforcePolicy,
    "sources/hubspot": HubspotPolicy,
    "sources/marketo": MarketoPolicy,
}

__all__ = [
    "FILES",
    "BulkUpdatesPolicy",
    "CalendarPolicy",
    "DemoPolicy",
    "HubspotPolicy",
    "HygienePolicy",
    "KpisPolicy",
    "MarketoPolicy",
    "MetricsPolicy",
    "MonitoringPolicy",
    "ObjectsPolicy",
    "PacksPolicy",
    "ProductsPolicy",
    "QualityPolicy",
    "SalesforcePolicy",
    "StagesPolicy",
    "TerritoriesPolicy",
    "TerritoryMapPolicy",
]
