"""Task bodies for the demo_crm_simulate DAG (kept here so the DAG file stays thin)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def parse_size(size: str | int) -> str | int:
    """``"small"``/``"medium"``/``"large"`` or a number of opportunities (``"250000"`` -> 250000)."""
    if isinstance(size, int):
        return size
    return int(size) if str(size).isdigit() else str(size)


def simulate(
    days: int = 7, reseed: bool = False, seed: int = 42, size: str | int = "small", **_: Any
) -> dict:
    """Optionally reseed the demo CRM, then advance its clock by ``days`` of activity."""
    from salesops_demo import DemoCrm

    crm = DemoCrm.seed(size=parse_size(size), seed=seed) if reseed or not DemoCrm().exists() else DemoCrm()
    before = crm.server_time()
    counts = crm.advance(days) if days else {}
    log.info("demo CRM clock %s -> %s; changes: %s", before, crm.server_time(), counts)
    return {
        "clock_before": before.isoformat(),
        "clock_after": crm.server_time().isoformat(),
        "changes": counts,
    }
