"""territory_map.yaml: a proposed territory map and quota plan (the territory_change plan type).

include/config/territory_map.yaml ships an empty proposal; the analyst puts the proposed map in
the config overlay (``SALESOPS_CONFIG_DIR``). Checks that need other files or the CRM's data
(cells against territories.yaml, owners against the CRM's users, quota sums) run when the plan is
built (salesops.bulk_update.plan_types.territory_change).
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from salesops.policy.models._base import PolicyModel, bad, unique


class Cell(PolicyModel):
    segment: str = Field(min_length=1)
    region: str = Field(min_length=1)


class Territory(PolicyModel):
    name: str = Field(min_length=1)
    cells: list[Cell] = Field(min_length=1)
    # Account owners (user ids or emails): accounts of the cells owned by anyone else move to them
    # (round-robin by account id), with their open opportunities.
    owners: list[str] = Field(min_length=1)
    # When given: open, unconverted, owned leads of the cells whose owner is not listed move to them.
    lead_owners: list[str] | None = None


class AccountOverride(PolicyModel):
    account: str = Field(min_length=1)  # account id
    owner: str = Field(min_length=1)  # user id or email


class QuotaPlan(PolicyModel):
    period_start: date  # first day of the fiscal quarter the quotas are for
    plan_total: float = Field(ge=0)  # the company plan: rep quotas must sum to it
    tolerance: float = Field(default=0, ge=0)  # absolute difference allowed in every sum check
    targets: dict[str, float] = {}  # territory name -> target its owners' quotas must sum to
    # region -> target the quotas of the territories inside that region must sum to (a territory
    # with cells in several regions cannot be split, so it may not fall under a region target)
    region_targets: dict[str, float] = {}
    reps: dict[str, float] = {}  # user id or email -> quota
    file: str | None = None  # CSV (columns owner,quota) beside this file in the overlay folder


class TerritoryMapPolicy(PolicyModel):
    """territory_map.yaml."""

    version: str | None = None  # the map's label (e.g. FY2027-Q1); an applied map is stored under it
    effective_date: date | None = None
    description: str = ""
    territories: list[Territory] = []
    account_overrides: list[AccountOverride] = []
    quota: QuotaPlan | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TerritoryMapPolicy:
        names = [t.name for t in self.territories]
        unique(names, "territories[{i}].name")
        unique([o.account for o in self.account_overrides], "account_overrides[{i}].account")
        if self.territories and not self.version:
            raise bad("version", self.version, "a label for the proposed map (e.g. FY2027-Q1)")
        if self.quota is not None:
            for t in self.quota.targets:
                if t not in names:
                    raise bad(f"quota.targets.{t}", t, f"a territory name, one of {names}")
        return self
