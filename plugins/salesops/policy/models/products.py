"""products.yaml: how the product catalogue checks compare line items (issue 15)."""

from __future__ import annotations

from pydantic import Field

from salesops.policy.models._base import PolicyModel


class LineItemRules(PolicyModel):
    # |Amount - sum(TotalPrice)| above this (the opportunity's currency) is a mismatch
    amount_tolerance: float = Field(default=0.01, ge=0)
    # effective sales price below list price by more than this percent is a deviation
    max_discount_pct: float = Field(default=25, ge=0, le=100)
    # ... and above list price by more than this percent
    max_markup_pct: float = Field(default=0, ge=0)


class ProductsPolicy(PolicyModel):
    """products.yaml."""

    line_items: LineItemRules = LineItemRules()
