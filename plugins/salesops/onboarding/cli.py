"""Argument parsing for ``python -m salesops`` (thin: each command calls the library)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from salesops import paths


def _profile(args: argparse.Namespace) -> int:
    from salesops.onboarding.profile import profile_folder, profile_source, render, write_drafts

    if args.source == "csv":
        if not args.csv_folder:
            print("profile: --csv-folder (make profile CSV_FOLDER=...) is required", file=sys.stderr)
            return 2
        prof = profile_folder(args.csv_folder, args.column_map)
    else:
        opts = {"conn_id": args.conn_id} if args.conn_id else {}
        prof = profile_source(args.source, limit=args.limit, **opts)
    out = Path(args.out) if args.out else paths.output_dir() / "profile"
    write_drafts(prof, out)
    print(json.dumps(prof.to_dict(), indent=2, default=str) if args.json else render(prof))
    return 0


def _metrics(args: argparse.Namespace) -> int:
    from salesops.onboarding.results import metrics_report

    rep = metrics_report(scope=args.scope, as_of=args.as_of)
    print(json.dumps(rep, indent=2, default=str) if args.json else _table(rep["metrics"], "metric"))
    return 0


def _quality(args: argparse.Namespace) -> int:
    from salesops.onboarding.results import quality_report

    rep = quality_report()
    print(json.dumps(rep, indent=2, default=str) if args.json else _table(rep["checks"], "check"))
    return 0


def _table(rows: list[dict], key: str) -> str:
    lines = []
    for r in rows:
        shown = r.get("value") if "value" in r else f"{r.get('failed')}/{r.get('evaluated')}"
        if r["status"] == "not_evaluated":
            shown = f"n/a - {r['reason']}"
        lines.append(f"{r[key]:<40}{r.get('object') or r.get('period') or '':<18}{r['status']:<15}{shown}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m salesops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("profile", help="profile a CRM export and write a starter overlay + column map")
    p.add_argument("--source", default="csv")
    p.add_argument("--csv-folder")
    p.add_argument("--column-map", help="default: <csv-folder>/column_map.yaml when it exists")
    p.add_argument("--conn-id", help="Airflow connection of an API source (default: the kind's default)")
    p.add_argument("--limit", type=int, default=50_000, help="API sources: records read per object")
    p.add_argument("--out", help="where the drafts go (default: $SALESOPS_OUTPUT_DIR/profile)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_profile)
    m = sub.add_parser("metrics", help="every registry metric of the current warehouse")
    m.add_argument("--json", action="store_true")
    m.add_argument("--scope", default="all", help="all | region:<R> | team:<T> | rep:<user id>")
    m.add_argument("--as-of", help="informational: the as-of the marts were built for must match")
    m.set_defaults(func=_metrics)
    q = sub.add_parser("quality", help="every quality check of the latest run")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_quality)
    args = parser.parse_args(argv)
    return int(args.func(args))
