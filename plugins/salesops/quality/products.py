"""The product catalogue checks' policy context (issue 15).

Four SQL checks (include/sql/quality/checks/line_item_*.sql, opp_line_items_without_price_book.sql,
all over the CTEs of include/sql/quality/_product_base.sql) compare line items with their
opportunity and the price book. Their thresholds come from include/config/products.yaml; amounts
are compared in the corporate currency of include/sql/_currency.sql (its fallback, kpis.yaml
``currency.corporate``, comes with quality.catalogue.currency_context). A source without products
has no line items or catalogue records, so the checks' ``needs`` in quality.yaml make them
``not_evaluated`` with the reason.
"""

from __future__ import annotations

from typing import Any

from salesops import policy as _policy
from salesops.policy.models.products import ProductsPolicy

CHECKS = (
    "line_item_amount_mismatch",
    "line_item_not_in_price_book",
    "line_item_product_inactive",
    "line_item_price_deviation",
    "opp_line_items_without_price_book",
)


def products_policy() -> ProductsPolicy:
    """include/config/products.yaml, validated, with the overlay laid over it."""
    return _policy.typed(ProductsPolicy, "products", True)


def products_context() -> dict[str, Any]:
    """The ``products`` Jinja variable of the quality SQL: policy numbers as SQL literals."""
    rules = products_policy().line_items
    return {
        "amount_tolerance": repr(float(rules.amount_tolerance)),
        "max_discount_pct": repr(float(rules.max_discount_pct)),
        "max_markup_pct": repr(float(rules.max_markup_pct)),
    }
