"""Switchable demo incidents with ground truth (issue 14): what monitoring must catch.

Each incident rewrites the demo CRM as if it had been going on for the ``days`` days before the demo
clock, and writes the series it must show up in to the ``incident_truth`` table:

- ``routing_gap``: routing stops assigning one segment (optionally in one region only): the
  unconverted leads of that segment created in the window have no owner, no assignment and no first
  touch. Must be caught by ``unassigned_leads`` overall (the segment's own series and the SLA
  breach rate may fire too).
- ``lead_sync_drop``: the marketing automation -> CRM lead sync drops half of the new leads: every
  second unconverted lead created in the window (by id) never reaches the CRM (with its lifecycle
  changes, campaign memberships and duplicate pairs). Must be caught by ``lead_volume`` overall.
- ``commit_jump``: one rep's forecast Commit doubles week over week: open opportunities of the rep
  at a stage that allows Commit move from Best Case/Pipeline into Commit two days before the clock
  (field history rows written), adding at least the rep's Commit of the week before. Must be caught
  by ``commit_by_rep`` for that rep.

Usage (before the first load that should see it; ``make demo`` re-seeds, so inject after seeding)::

    python -m salesops_demo.incidents inject routing_gap --days 7
    python -m salesops_demo.incidents show

``incident_truth`` rows: incident, window start/end (demo clock), detail, affected record count,
and one row per (series, scope_type, scope_value) the incident must (``required``) or may raise.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from salesops_demo.store import connect

INCIDENTS = ("routing_gap", "lead_sync_drop", "commit_jump")
TRUTH_DDL = (
    "CREATE TABLE IF NOT EXISTS incident_truth (incident VARCHAR, window_start TIMESTAMP, "
    "window_end TIMESTAMP, detail VARCHAR, records BIGINT, series VARCHAR, scope_type VARCHAR, "
    "scope_value VARCHAR, required BOOLEAN)"
)
COMMIT_STAGES = ("Proposal/Price Quote", "Negotiation/Review")


def _clock(con: Any) -> datetime:
    return datetime.fromisoformat(con.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()[0])


def _truth(
    con: Any, incident: str, start: datetime, end: datetime, detail: dict, n: int, expect: list
) -> None:
    con.execute(TRUTH_DDL)
    con.execute("DELETE FROM incident_truth WHERE incident = ?", [incident])
    con.executemany(
        "INSERT INTO incident_truth VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[incident, start, end, json.dumps(detail, sort_keys=True), n, *e] for e in expect],
    )


def routing_gap(con: Any, days: int = 7, segment: str = "SMB", region: str | None = None) -> dict[str, Any]:
    clock = _clock(con)
    start = clock - timedelta(days=days)
    where = "CreatedDate >= ? AND CreatedDate < ? AND Segment__c = ? AND NOT coalesce(IsConverted, false)"
    args: list[Any] = [start, clock, segment]
    if region is not None:
        where += " AND Region__c = ?"
        args.append(region)
    n = con.execute(f'SELECT count(*) FROM "Lead" WHERE {where}', args).fetchone()[0]
    con.execute(
        f"""UPDATE "Lead" SET OwnerId = NULL, Assigned_At__c = NULL, First_Touch_At__c = NULL,
        Status = 'Open' WHERE {where}""",
        args,
    )
    detail = {"days": days, "segment": segment, "region": region}
    expect = [
        ("unassigned_leads", "all", "all", True),
        ("unassigned_leads", "segment", segment, False),
        ("routing_sla_breaches", "all", "all", False),
    ]
    _truth(con, "routing_gap", start, clock, detail, n, expect)
    return {"incident": "routing_gap", "records": n, **detail}


def lead_sync_drop(con: Any, days: int = 7) -> dict[str, Any]:
    clock = _clock(con)
    start = clock - timedelta(days=days)
    ids = [
        r[0]
        for r in con.execute(
            """SELECT Id FROM "Lead" WHERE CreatedDate >= ? AND CreatedDate < ?
            AND NOT coalesce(IsConverted, false) ORDER BY Id""",
            [start, clock],
        ).fetchall()
    ][::2]
    con.execute("CREATE TEMP TABLE _dropped (id VARCHAR)")
    con.executemany("INSERT INTO _dropped VALUES (?)", [[i] for i in ids])
    con.execute('DELETE FROM "Lead" WHERE Id IN (SELECT id FROM _dropped)')
    con.execute('DELETE FROM "LifecycleStageChange" WHERE LeadId IN (SELECT id FROM _dropped)')
    con.execute('DELETE FROM "CampaignMember" WHERE LeadId IN (SELECT id FROM _dropped)')
    for table in ("dup_pairs", "injected_defects", "malformed_values"):
        cols = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        for col in ("record_id", "related_id"):
            if col in cols:
                con.execute(f"DELETE FROM {table} WHERE {col} IN (SELECT id FROM _dropped)")
    con.execute("DROP TABLE _dropped")
    detail = {"days": days, "share_dropped": 0.5}
    expect = [
        ("lead_volume", "all", "all", True),
        ("lead_volume", "lead_source", "*", False),
        ("sync_rows", "object", "lead", False),
    ]
    _truth(con, "lead_sync_drop", start, clock, detail, len(ids), expect)
    return {"incident": "lead_sync_drop", "records": len(ids), **detail}


def _next_history_id(con: Any) -> int:
    last = con.execute('SELECT max(Id) FROM "OpportunityFieldHistory"').fetchone()[0]
    return int(last[-13:]) + 1 if last else 1


def commit_jump(con: Any, owner: str | None = None) -> dict[str, Any]:
    clock = _clock(con)
    when = clock - timedelta(days=2)
    stages = ", ".join(f"'{s}'" for s in COMMIT_STAGES)
    reps = con.execute(
        f"""WITH o AS (SELECT * FROM "Opportunity" WHERE NOT coalesce(IsClosed, false) AND Amount > 0),
        c AS (SELECT OwnerId, sum(Amount) AS commit FROM o WHERE ForecastCategoryName = 'Commit' GROUP BY 1),
        e AS (SELECT OwnerId, sum(Amount) AS eligible FROM o
              WHERE StageName IN ({stages}) AND ForecastCategoryName <> 'Commit' AND CreatedDate < ?
              GROUP BY 1)
        SELECT c.OwnerId, c.commit, e.eligible FROM c JOIN e USING (OwnerId)
        WHERE e.eligible >= c.commit ORDER BY c.commit DESC, c.OwnerId""",
        [clock - timedelta(days=21)],
    ).fetchall()
    if owner is not None:
        reps = [r for r in reps if r[0] == owner]
    if not reps:
        raise ValueError(
            "commit_jump: no rep has enough open Best Case/Pipeline amount to double their Commit"
        )
    rep, commit, _ = reps[0]
    deals = con.execute(
        f"""SELECT Id, ForecastCategoryName, Amount FROM "Opportunity"
        WHERE OwnerId = ? AND NOT coalesce(IsClosed, false) AND Amount > 0 AND StageName IN ({stages})
          AND ForecastCategoryName <> 'Commit' AND CreatedDate < ?
        ORDER BY Amount DESC, Id""",
        [rep, clock - timedelta(days=21)],
    ).fetchall()
    moved, added = [], 0.0
    for deal_id, old, amount in deals:
        if added >= float(commit):
            break
        moved.append((deal_id, old))
        added += float(amount)
    hid = _next_history_id(con)
    for k, (deal_id, old) in enumerate(moved):
        con.execute(
            """UPDATE "Opportunity" SET ForecastCategoryName = 'Commit',
            SystemModstamp = greatest(SystemModstamp, ?) WHERE Id = ?""",
            [when, deal_id],
        )
        con.execute(
            'INSERT INTO "OpportunityFieldHistory" VALUES (?, ?, ?, ?, ?, ?)',
            [f"017DM{hid + k:013d}", deal_id, "ForecastCategoryName", old, "Commit", when],
        )
    detail = {"owner": rep, "commit_before": round(float(commit), 2), "added": round(added, 2)}
    _truth(con, "commit_jump", when, clock, detail, len(moved), [("commit_by_rep", "owner", rep, True)])
    return {"incident": "commit_jump", "records": len(moved), **detail}


def inject(path: Path | str, incident: str, **options: Any) -> dict[str, Any]:
    """Switch one incident on in the demo CRM at ``path`` (one transaction); its ground truth."""
    if incident not in INCIDENTS:
        raise ValueError(f"unknown incident {incident!r}; expected one of {INCIDENTS}")
    fn = {"routing_gap": routing_gap, "lead_sync_drop": lead_sync_drop, "commit_jump": commit_jump}[incident]
    with connect(Path(path)) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            result = fn(con, **options)
            # the defect ground truth (unassigned leads etc.) is re-derived from the changed data
            con.execute("INSERT OR REPLACE INTO meta VALUES ('gt_dirty', '1')")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return result


def ground_truth(path: Path | str) -> list[dict[str, Any]]:
    """The incident_truth rows of the demo CRM at ``path`` ([] when no incident was injected)."""
    with connect(Path(path), read_only=True) as con:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'incident_truth'"
        ).fetchone()
        if not found or not found[0]:
            return []
        cur = con.execute("SELECT * FROM incident_truth ORDER BY incident, series, scope_type, scope_value")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m salesops_demo.incidents", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_inject = sub.add_parser("inject", help="switch an incident on in the demo CRM")
    p_inject.add_argument("incident", choices=INCIDENTS)
    p_inject.add_argument("--days", type=int, default=7, help="routing_gap, lead_sync_drop: window length")
    p_inject.add_argument("--segment", default="SMB", help="routing_gap: the segment routing stops assigning")
    p_inject.add_argument(
        "--region", default=None, help="routing_gap: only this region (default every region)"
    )
    p_inject.add_argument("--owner", default=None, help="commit_jump: the rep (default: chosen by the rule)")
    sub.add_parser("show", help="print the incident ground truth")
    parser.add_argument("--path", default=None, help="demo CRM file (default data_dir()/demo_crm.duckdb)")
    args = parser.parse_args(argv)
    from salesops_demo import DemoCrm

    path = Path(args.path) if args.path else DemoCrm().path
    if args.command == "inject":
        opts: dict[str, Any] = {
            "routing_gap": {"days": args.days, "segment": args.segment, "region": args.region},
            "lead_sync_drop": {"days": args.days},
            "commit_jump": {"owner": args.owner},
        }[args.incident]
        print(json.dumps(inject(path, args.incident, **opts), default=str))
    else:
        for row in ground_truth(path):
            print(json.dumps(row, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
