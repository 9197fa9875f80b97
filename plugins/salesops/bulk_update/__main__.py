"""Command line for bulk-update plans (outside the Airflow UI).

    python -m salesops.bulk_update build --type fix_forecast_category [--on-behalf-of ...] [--reason ...] [--only-open-exceptions] [--source demo]
    python -m salesops.bulk_update show --plan-id BU-...
    python -m salesops.bulk_update approve --plan-id BU-... --hash <sha256> [--comment ...]
    python -m salesops.bulk_update reject  --plan-id BU-... --hash <sha256> [--comment ...]
    python -m salesops.bulk_update revoke  --plan-id BU-... [--comment ...]
    python -m salesops.bulk_update expire --plan-id BU-...
    python -m salesops.bulk_update log --plan-id BU-...

Identity: build, approve, reject and revoke log in to Airflow as you (``--airflow-url``, default
``SALESOPS_AIRFLOW_URL`` or http://localhost:8080; user ``--user`` / ``SALESOPS_AIRFLOW_USER``;
password ``SALESOPS_AIRFLOW_PASSWORD`` or a prompt). The build's requester is that user;
approve/reject answer the plan's open approval request through Airflow's REST API, so Airflow
records you as the responder and refuses you (403) if you are not an assigned approver (the
requester never is). The warehouse is SALESOPS_WAREHOUSE_URL (default: the project's DuckDB file).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from salesops.bulk_update import approval, plan
from salesops.bulk_update.apply import change_log
from salesops.bulk_update.render import approval_body
from salesops.bulk_update.settings import load_settings
from salesops.warehouse import Warehouse


def _credentials(args: argparse.Namespace) -> tuple[str, str, str]:
    url = (args.airflow_url or os.getenv("SALESOPS_AIRFLOW_URL") or "http://localhost:8080").rstrip("/")
    user = args.user or os.getenv("SALESOPS_AIRFLOW_USER") or input("Airflow user: ").strip()
    password = os.getenv("SALESOPS_AIRFLOW_PASSWORD") or getpass.getpass(f"Airflow password for {user}: ")
    return url, user, password


def _authenticated_user(args: argparse.Namespace) -> tuple[str, str, str]:
    """Log in to Airflow; the user name Airflow accepted is the caller's identity."""
    from salesops.bulk_update import airflow_api

    url, user, password = _credentials(args)
    airflow_api.login(url, user, password, airflow_api.new_session())
    return url, user, password


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m salesops.bulk_update", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--warehouse-url",
        default=None,
        help="SQLAlchemy URL (default: SALESOPS_WAREHOUSE_URL or the local DuckDB file)",
    )
    ap.add_argument("--airflow-url", default=None, help="Airflow API server (default SALESOPS_AIRFLOW_URL)")
    ap.add_argument("--user", default=None, help="your Airflow user (default SALESOPS_AIRFLOW_USER)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build and store a plan (you are its requester), print its summary")
    b.add_argument("--type", required=True)
    b.add_argument("--on-behalf-of", default=None, help="a note: whom you ask for")
    b.add_argument("--reason", default="")
    from salesops.sources.registry import WRITABLE_KINDS

    b.add_argument("--source", default="demo", help=f"the CRM the plan is for ({', '.join(WRITABLE_KINDS)})")
    b.add_argument("--source-conn-id", default=None)
    b.add_argument(
        "--only-open-exceptions",
        action="store_true",
        help="restrict the plan to records in the quality exception queue",
    )
    b.add_argument(
        "--record-limit",
        type=int,
        default=None,
        help="split a large plan: take at most N records (the first by record id); the rest wait for the next plan",
    )
    for name in ("show", "expire", "log"):
        p = sub.add_parser(name)
        p.add_argument("--plan-id", required=True)
    for name in ("approve", "reject"):
        p = sub.add_parser(
            name, help=f"{name} this exact plan id and hash through Airflow's REST API, as you"
        )
        p.add_argument("--plan-id", required=True)
        p.add_argument(
            "--hash", required=True, help="the plan hash shown on the approval screen / in plan.json"
        )
        p.add_argument("--comment", default=None)
    r = sub.add_parser("revoke", help="stop a plan before apply starts (wins over an approval)")
    r.add_argument("--plan-id", required=True)
    r.add_argument("--comment", default=None)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    wh = Warehouse(args.warehouse_url)
    settings = load_settings()
    try:
        creds = None
        if args.cmd in ("build", "revoke"):
            creds = _authenticated_user(args)
        elif args.cmd in ("approve", "reject"):
            creds = _credentials(args)  # airflow_api.answer logs in and answers as this user
        return _run(args, wh, settings, creds)
    except plan.PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args, wh: Warehouse, settings, creds: tuple[str, str, str] | None) -> int:
    if args.cmd == "build":
        assert creds is not None  # main() logged in
        from salesops.bulk_update.target import describe
        from salesops.sources.registry import options_for

        try:
            p = plan.build_plan(
                wh,
                args.type,
                requester=creds[1],
                reason=args.reason,
                settings=settings,
                only_open_exceptions=True if args.only_open_exceptions else None,
                target=describe(args.source, options_for(args.source, conn_id=args.source_conn_id)),
                on_behalf_of=args.on_behalf_of,
                record_limit=args.record_limit,
            )
        except plan.EmptyPlan as exc:
            print(f"empty plan: {exc}")
            return 0
        print(approval_body(p))
        return 0
    if args.cmd == "show":
        print(approval_body(plan.load_plan(wh, args.plan_id)))
        print("\nDecisions:")
        for a in approval.approvals(wh, args.plan_id):
            print(
                f"  {a['responded_at']}  {a['decision']:<8} {a['approver'] or '-':<24} {a['channel']:<8} {a['comment'] or ''}"
            )
        return 0
    if args.cmd == "log":
        print(json.dumps(change_log(wh, args.plan_id), indent=2, default=str))
        return 0
    p = plan.load_plan(wh, args.plan_id)
    if args.cmd == "expire":
        print(
            "expired"
            if approval.expire_if_due(wh, p)
            else f"not expired (status {p.status}, expires {p.expires_at})"
        )
        return 0
    assert creds is not None  # main() asked for them
    url, user, password = creds
    if args.cmd == "revoke":
        rec = approval.revoke(wh, p, by=user, comment=args.comment)
        print(f"recorded revoke {rec} by {user} for plan {p.plan_id}: it will not be applied")
        return 0
    from salesops.bulk_update import airflow_api

    done = airflow_api.answer(
        url, user, password, p, plan_hash=args.hash, decision=args.cmd, comment=args.comment
    )
    print(
        f"{args.cmd} sent for plan {p.plan_id} (hash {p.content_hash}) as {done.responded_by}; "
        f"run {done.run_id} records it and applies only a valid approval"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
