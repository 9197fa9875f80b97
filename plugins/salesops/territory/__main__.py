"""``python -m salesops.territory``: applied maps, assignments as of a date, an example proposal.

    python -m salesops.territory maps                  # every proposed/applied/undone map
    python -m salesops.territory as-of 2026-11-01      # each account's owner and territory then
    python -m salesops.territory demo-map --out DIR    # example proposal for the demo CRM

The warehouse is the default one (``SALESOPS_WAREHOUSE_URL`` or data/warehouse.duckdb), or
``--warehouse URL``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml


def demo_map(wh: Any, out: Path) -> Path:
    """Write <out>/territory_map.yaml + quotas.csv: the demo CRM's teams as territories, with one change.

    The change: the first Account Executive (by id) of AMER-SMB moves to AMER-MM - as account
    owner and as lead owner (AMER-SMB and AMER-MM list their teams' AEs and SDRs as lead owners, so
    the mover's AMER-SMB leads and leads owned outside the team move). Quotas: the latest quota
    period's quotas plus 5 % (rounded to 1,000); the plan total and per-territory targets are their sums.
    """
    from salesops import policy
    from salesops.bulk_update import store

    members = store.query(wh, "territory_team_members.sql")
    teams: dict[str, dict[str, list[str]]] = {}
    for m in members:
        role = "ae" if m["user_role"] == "Account Executive" else "sdr" if m["user_role"] == "SDR" else None
        if role:
            teams.setdefault(str(m["team"]), {"ae": [], "sdr": []})[role].append(str(m["id"]))
    rules = policy.territories().routing_rules
    owners = {r.team: list(teams.get(r.team, {}).get("ae", [])) for r in rules}
    leads = {r.team: owners[r.team] + list(teams.get(r.team, {}).get("sdr", [])) for r in rules}
    mover = owners["AMER-SMB"][0]
    for table in (owners, leads):
        table["AMER-SMB"].remove(mover)
        table["AMER-MM"].append(mover)
    quotas = store.query(wh, "territory_latest_quotas.sql")
    if not quotas:
        raise SystemExit("the demo CRM has no ForecastingQuota rows: run the extract-load first")
    period = quotas[0]["period_start"]
    current = {str(q["owner_id"]): float(q["quota_amount"] or 0) for q in quotas}
    rep_quota = {u: round(current.get(u, 0.0) * 1.05, -3) for t in owners.values() for u in t}
    targets = {t: sum(rep_quota[u] for u in ids) for t, ids in owners.items()}
    territories = []
    for r in rules:
        t: dict[str, Any] = {
            "name": r.team,
            "cells": [{"segment": r.segment, "region": r.region}],
            "owners": owners[r.team],
        }
        if r.team in ("AMER-SMB", "AMER-MM"):
            t["lead_owners"] = leads[r.team]
        territories.append(t)
    proposal = {
        "version": f"demo-{period}",
        "effective_date": period,
        "description": f"Example: {mover} moves from AMER-SMB to AMER-MM; quotas +5 %",
        "territories": territories,
        "quota": {
            "period_start": period,
            "plan_total": float(sum(rep_quota.values())),
            "tolerance": 1.0,
            "targets": {k: float(v) for k, v in targets.items()},
            "file": "quotas.csv",
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "territory_map.yaml").write_text(yaml.safe_dump(proposal, sort_keys=False), encoding="utf-8")
    lines = ["owner,quota"] + [f"{u},{q:.0f}" for u, q in rep_quota.items()]
    (out / "quotas.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "territory_map.yaml"


def main(argv: list[str] | None = None) -> int:
    from salesops import territory
    from salesops.bulk_update.model import PlanError
    from salesops.warehouse import Warehouse, default_warehouse_url

    parser = argparse.ArgumentParser(prog="python -m salesops.territory", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=None, help="SQLAlchemy URL (default: the project's warehouse)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("maps", help="proposed, applied and undone territory maps")
    p = sub.add_parser("as-of", help="each account's owner and territory at a date or moment")
    p.add_argument("when")
    d = sub.add_parser("demo-map", help="write an example proposal for the demo CRM")
    d.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    wh = Warehouse(args.warehouse or default_warehouse_url())
    try:
        if args.cmd == "maps":
            print(json.dumps(territory.map_versions(wh), indent=2, default=str))
        elif args.cmd == "as-of":
            print(json.dumps(territory.assignments_as_of(wh, args.when), indent=2, default=str))
        else:
            print(f"wrote {demo_map(wh, args.out)}; set SALESOPS_CONFIG_DIR={args.out} to plan it")
    except PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
