"""pytest fixtures over the fakes: import them into a test module or a conftest.

from tests.fakes.fixtures import fake_sf, opportunity_org  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.fakes.salesforce_api import FakeSalesforce

# The manifest's Opportunity fields (include/config/objects.yaml) with Salesforce describe types.
OPPORTUNITY_FIELDS = {
    "Name": "string",
    "AccountId": "reference",
    "OwnerId": "reference",
    "StageName": "picklist",
    "Amount": "currency",
    "Probability": "percent",
    "CloseDate": "date",
    "ForecastCategoryName": "picklist",
    "NextStep": "string",
    "LastActivityDate": "date",
    "Type": "picklist",
    "LeadSource": "picklist",
    "IsClosed": "boolean",
    "IsWon": "boolean",
    "Loss_Reason__c": "picklist",
    "Last_Bulk_Update_Plan__c": "string",
    "CreatedDate": "datetime",
}

T0 = datetime(2026, 10, 1, 9, 0, 0, tzinfo=UTC)


def opportunity(i: int, stamp: datetime, **over: object) -> dict[str, object]:
    """A synthetic opportunity (obviously fake names), deterministic in ``i``."""
    rec: dict[str, object] = {
        "Name": f"Synthetic Deal {i:07d}",
        "AccountId": f"001FK{i % 997:010d}AAA",
        "OwnerId": f"005FK{i % 23:010d}AAA",
        "StageName": ["Prospecting", "Qualification", "Proposal", "Closed Won", "Closed Lost"][i % 5],
        "Amount": float(1000 + (i * 37) % 90000),
        "Probability": float([10, 20, 50, 100, 0][i % 5]),
        "CloseDate": (T0.date() + timedelta(days=i % 120)).isoformat(),
        "ForecastCategoryName": "Pipeline",
        "NextStep": None,
        "LastActivityDate": None,
        "Type": "New Business",
        "LeadSource": "Web",
        "IsClosed": i % 5 >= 3,
        "IsWon": i % 5 == 3,
        "Loss_Reason__c": None,
        "Last_Bulk_Update_Plan__c": None,
        "CreatedDate": stamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    }
    rec.update(over)
    return rec


@pytest.fixture()
def fake_sf() -> Iterator[FakeSalesforce]:
    """An empty fake org on 127.0.0.1 (free port), stopped after the test."""
    with FakeSalesforce(clock=T0 + timedelta(days=30)) as fake:
        yield fake


def seed_opportunities(
    fake: FakeSalesforce, n: int, *, start: datetime = T0, step_ms: int = 1000
) -> list[str]:
    """``n`` opportunities with increasing SystemModstamps from ``start``."""
    if "Opportunity" not in fake.objects:
        fake.add_object("Opportunity", OPPORTUNITY_FIELDS, id_prefix="006")
    ids = []
    for i in range(n):
        stamp = start + timedelta(milliseconds=i * step_ms)
        ids += fake.insert("Opportunity", [opportunity(i, stamp)], stamp=stamp)
    return ids
