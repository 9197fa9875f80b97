"""CLI: python -m salesops_demo seed|advance|summary|ground-truth."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from salesops_demo import DemoCrm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m salesops_demo", description=__doc__)
    parser.add_argument("--path", type=Path, default=None, help="demo DuckDB file (default: data dir)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("seed", help="generate a fresh demo org (overwrites)")
    p.add_argument("--size", default="small", help="small | medium | large | number of opportunities")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--start", default=None, help="demo clock after seeding, e.g. 2026-11-02T06:00:00Z")
    p.add_argument(
        "--currencies",
        default=None,
        help="multi-currency mode: re-price the org in these currencies besides the corporate one, "
        "e.g. EUR,GBP (rates in include/config/demo.yaml currencies)",
    )
    p.add_argument("--path", type=Path, default=None, dest="sub_path")
    p = sub.add_parser("advance", help="simulate N days of activity")
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--path", type=Path, default=None, dest="sub_path")
    p = sub.add_parser("summary", help="counts, clock and defects")
    p.add_argument("--path", type=Path, default=None, dest="sub_path")
    p = sub.add_parser("ground-truth", help="write the ground truth as CSV")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--path", type=Path, default=None, dest="sub_path")
    args = parser.parse_args(argv)
    path = getattr(args, "sub_path", None) or args.path

    if args.cmd == "seed":
        t = time.perf_counter()
        crm = DemoCrm.seed(args.size, seed=args.seed, path=path, start=args.start, currencies=args.currencies)
        s = crm.summary()
        print(
            f"seeded {crm.path} in {time.perf_counter() - t:.1f}s: size={s['size']} seed={s['seed']} "
            f"clock={s['clock']}Z"
        )
        _print_counts(s)
    elif args.cmd == "advance":
        crm = DemoCrm(path)
        t = time.perf_counter()
        r = crm.advance(args.days, seed=args.seed)
        print(
            f"advanced {r['days']} days in {time.perf_counter() - t:.1f}s: {r['clock_from']}Z -> {r['clock_to']}Z"
        )
        for obj, kinds in r["changes"].items():
            print(f"  {obj:<26} " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    elif args.cmd == "summary":
        s = DemoCrm(path).summary()
        print(
            f"{s['path']}: size={s['size']} seed={s['seed']} clock={s['clock']}Z "
            f"deleted={s['deleted_records']} changes={s['change_log_rows']}"
        )
        _print_counts(s)
    elif args.cmd == "ground-truth":
        gt = DemoCrm(path).ground_truth()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        gt.to_csv(args.out, index=False)
        print(f"wrote {len(gt)} ground-truth rows to {args.out}")
    return 0


def _print_counts(s: dict) -> None:
    print("records:  " + ", ".join(f"{k} {v:,}" for k, v in s["counts"].items()))
    print("defects:  " + ", ".join(f"{k} {v}" for k, v in s["defects"].items()))


if __name__ == "__main__":
    sys.exit(main())
