"""The report packs by name: the one list the report_packs DAG (its ``packs`` enum) and
scripts/demo.py (``make demo`` renders every pack) read.

Standard library only, so the DAG file can import it at parse time (packs.yaml is not read then).
Each name is a pack of include/config/packs.yaml, in its order; tests/unit/test_layering.py checks
the two agree. Adding a pack: its entry in packs.yaml, then its name here.
"""

from __future__ import annotations

PACKS: tuple[str, ...] = (
    "weekly_pipeline_inspection",
    "forecast_hygiene",
    "dq_scorecard",
    "routing_sla",
    "quarter_end",
)
