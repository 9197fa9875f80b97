"""Command line for bulk-update plans (outside the Airflow UI).

    python -m salesops.bulk_update build --type fix_forecast_category --requester analyst-1 [--reason ...] [--only-open-exceptions]
    python -m salesops.bulk_update show --plan-id BU-...
    python -m salesops.bulk_update approve --plan-id BU-... --hash <sha256> --approver revops-approver-1 [--comment ...]
    python -m salesops.bulk_update reject  --plan-id BU-... --hash <sha256> --approver revops-approver-1 [--comment ...]
    python -m salesops.bulk_update expire --plan-id BU-...
    python -m salesops.bulk_update log --plan-id BU-...

approve/reject write a *signed* record (HMAC-SHA256 with SALESOPS_APPROVAL_SIGNING_KEY) into
ops.bulk_update_approval; a DAG run waiting with approval_channel=signed accepts it once its
sensor has checked the signature, the plan id and the hash. The warehouse is
SALESOPS_WAREHOUSE_URL (default: the project's DuckDB file).
"""

from __future__ import annotations

import argparse
import json
import sys

from salesops.bulk_update import approval, plan
from salesops.bulk_update.apply import change_log
from salesops.bulk_update.render import approval_body
from salesops.bulk_update.settings import load_settings
from salesops.warehouse import Warehouse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m salesops.bulk_update", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--warehouse-url",
        default=None,
        help="SQLAlchemy URL (default: SALESOPS_WAREHOUSE_URL or the local DuckDB file)",
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build and store a plan, print its summary")
    b.add_argument("--type", required=True)
    b.add_argument("--requester", required=True)
    b.add_argument("--reason", default="")
    b.add_argument(
        "--only-open-exceptions",
        action="store_true",
        help="restrict the plan to records in the quality exception queue",
    )
    for name in ("show", "expire", "log"):
        p = sub.add_parser(name)
        p.add_argument("--plan-id", required=True)
    for name in ("approve", "reject"):
        p = sub.add_parser(name, help=f"write a signed {name} record for this exact plan id and hash")
        p.add_argument("--plan-id", required=True)
        p.add_argument(
            "--hash", required=True, help="the plan hash shown on the approval screen / in plan.json"
        )
        p.add_argument("--approver", required=True)
        p.add_argument("--comment", default=None)
    args = ap.parse_args(argv)
    wh = Warehouse(args.warehouse_url)
    settings = load_settings()
    try:
        if args.cmd == "build":
            try:
                p = plan.build_plan(
                    wh,
                    args.type,
                    requester=args.requester,
                    reason=args.reason,
                    settings=settings,
                    only_open_exceptions=True if args.only_open_exceptions else None,
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
        if args.cmd == "expire":
            p = plan.load_plan(wh, args.plan_id)
            print(
                "expired"
                if approval.expire_if_due(wh, p)
                else f"not expired (status {p.status}, expires {p.expires_at})"
            )
            return 0
        key = approval.signing_key()
        if not key:
            print(
                f"error: set {approval.SIGNING_KEY_ENV} (the same key the Airflow deployment uses)",
                file=sys.stderr,
            )
            return 2
        p = plan.load_plan(wh, args.plan_id)
        rec = approval.write_signed_approval(
            wh,
            p,
            plan_hash=args.hash,
            approver=args.approver,
            key=key,
            settings=settings,
            decision=args.cmd,
            comment=args.comment,
        )
        print(f"recorded signed {args.cmd} {rec} for plan {p.plan_id} (hash {p.content_hash})")
        return 0
    except plan.PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
