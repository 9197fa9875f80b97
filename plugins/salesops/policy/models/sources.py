"""sources/*.yaml: connector settings of Salesforce, HubSpot and Marketo."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from salesops.policy.models._base import PolicyModel, bad


class SalesforceVolume(PolicyModel):
    """``volume:`` (plugins/salesops/sources/salesforce_bulk.py; its DEFAULTS fill what is left out)."""

    bulk_threshold: int | None = Field(default=None, ge=1)
    bulk_page_records: int | None = Field(default=None, ge=1)
    poll_initial_seconds: float | None = Field(default=None, gt=0)
    poll_max_seconds: float | None = Field(default=None, gt=0)
    poll_timeout_seconds: float | None = Field(default=None, gt=0)
    api_budget_share: float | None = Field(default=None, gt=0, le=1)
    reconcile_every_days: int | None = Field(default=None, ge=1)
    formula_refresh_days: int | None = Field(default=None, ge=0)  # 0 = never re-read formulas
    # custom (__c) fields from describe: none, all, or an opt-in {Object: [Field__c, ...]}
    custom_fields: Literal["none", "all"] | dict[str, list[str]] | None = None
    # bulk-update write-back: plans of at least this many records use a Bulk API 2.0 ingest job
    ingest_threshold: int | None = Field(default=None, ge=1)
    # the lookup whose parent record a write locks (ingest rows are sorted by it)
    ingest_parent_fields: dict[str, str] | None = None


class SalesforcePolicy(PolicyModel):
    """sources/salesforce.yaml."""

    api_version: str
    page_size: int = Field(ge=200, le=2000)
    optional_objects: list[str] = []
    field_paths: dict[str, dict[str, str]] = {}
    transient_errors: list[str] = []
    # extract window end this far behind the server clock; start this far before the watermark
    settle_seconds: float = Field(default=60, ge=0)
    overlap_seconds: float = Field(default=60, ge=0)
    volume: SalesforceVolume | None = None


class HubspotField(PolicyModel):
    property: str
    value_map: str | None = None
    transform: Literal["date", "percent", "bool"] | None = None
    # never written back (update_records refuses it before any call), e.g. Contact.Birthdate
    read_only: bool = False


class HubspotObject(PolicyModel):
    hubspot_object: str
    modstamp: str | None = None
    lifecycle: Literal["lead", "contact"] | None = None
    fields: dict[str, str | HubspotField] = {}
    # manifest field -> associated object type (v4 associations), e.g. {AccountId: companies}
    associations: dict[str, str] = {}


class HubspotPolicy(PolicyModel):
    """sources/hubspot.yaml."""

    base_url: str
    page_size: int = Field(ge=1, le=200)
    search_result_cap: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    search_lag_seconds: int = Field(ge=0)
    transient_categories: list[str] = []
    value_maps: dict[str, dict[str, str]] = {}
    lead_lifecycle_stages: list[str] = []
    # association changes do not move hs_lastmodifieddate: re-read every record's associations
    # this often (days; 0 = never)
    association_refresh_days: float = Field(default=7, ge=0)
    # association type ids that mark the primary one (deal -> company primary is 5)
    primary_association_type_ids: list[int] = [5]
    objects: dict[str, HubspotObject]

    @model_validator(mode="after")
    def _value_maps_exist(self) -> HubspotPolicy:
        for obj, spec in self.objects.items():
            for fname, f in spec.fields.items():
                if isinstance(f, HubspotField) and f.value_map and f.value_map not in self.value_maps:
                    raise bad(
                        f"objects.{obj}.fields.{fname}.value_map",
                        f.value_map,
                        f"one of value_maps {sorted(self.value_maps)}",
                    )
        return self


class MarketoLifecycle(PolicyModel):
    activity_type_id: int
    programs: list[str] = []
    status_map: dict[str, str] = {}


class MarketoPolicy(PolicyModel):
    """sources/marketo.yaml."""

    initial_since: str
    transient_errors: list[int] = []
    token_errors: list[int] = []
    programs_page_size: int = Field(ge=1)
    members_batch_size: int = Field(ge=1)
    leads_per_call: int = Field(ge=1)
    lifecycle: MarketoLifecycle
    lead_change_activity_types: list[int] = []
    lead_fields: dict[str, str] = {}
    member_fields: list[str] = []
