"""demo.yaml: the demo CRM's clock, seed, sizes, volumes, defect rates and daily simulation."""

from __future__ import annotations

from pydantic import Field

from salesops.policy.models._base import PolicyModel


class Volumes(PolicyModel):
    accounts: float = Field(gt=0)
    contacts_per_account: float = Field(ge=0)
    leads: float = Field(ge=0)
    reps_per_team_min: int = Field(ge=1)
    reps_per_team_max: int = Field(ge=1)
    opportunities_per_rep: int = Field(ge=1)
    campaigns_per_opportunity: float = Field(ge=0)


class Opportunities(PolicyModel):
    open_share: float = Field(ge=0, le=1)
    win_rate: float = Field(ge=0, le=1)
    type_weights: dict[str, float]
    open_stage_weights: list[float]
    amount_range: dict[str, list[float]]


class MalformedRate(PolicyModel):
    rate: float = Field(ge=0, le=1)
    min: int = Field(ge=0)


class Defects(PolicyModel):
    Opportunity: dict[str, float] = {}
    Lead: dict[str, float] = {}
    Contact: dict[str, float] = {}
    Account: dict[str, float] = {}
    FinanceBooking: dict[str, float] = {}
    malformed_value: dict[str, MalformedRate] = {}


class Simulation(PolicyModel):
    new_opportunities_per_1000_open: float = Field(ge=0)
    new_leads_per_1000_leads: float = Field(ge=0)
    stage_advance: float = Field(ge=0, le=1)
    stage_regress: float = Field(ge=0, le=1)
    early_close: float = Field(ge=0, le=1)
    close_date_push: float = Field(ge=0, le=1)
    close_date_pull_in: float = Field(ge=0, le=1)
    amount_edit: float = Field(ge=0, le=1)
    activity: float = Field(ge=0, le=1)
    max_days_between_activities: int = Field(ge=1)
    lead_to_mql: float = Field(ge=0, le=1)
    mql_to_sql: float = Field(ge=0, le=1)
    lead_conversion: float = Field(ge=0, le=1)
    campaign_join: float = Field(ge=0, le=1)
    delete_opportunity: float = Field(ge=0, le=1)
    delete_lead: float = Field(ge=0, le=1)
    delete_contact: float = Field(ge=0, le=1)
    delete_task: float = Field(ge=0, le=1)
    new_lead_defects: dict[str, float] = {}


class DatedRate(PolicyModel):
    start: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    rate: float = Field(gt=0)


class Currencies(PolicyModel):
    """The demo's multi-currency mode (off unless a seed names currencies)."""

    corporate: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    rates: dict[str, float] = {}
    dated: dict[str, list[DatedRate]] = {}
    quota_region: str | None = None


class DemoPolicy(PolicyModel):
    """demo.yaml."""

    start: str
    seed: int
    sizes: dict[str, int]
    volumes: Volumes
    opportunities: Opportunities
    defects: Defects
    simulation: Simulation
    currencies: Currencies = Currencies()
