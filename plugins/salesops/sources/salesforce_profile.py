"""Dry run: what a first sync of the manifest would cost in Salesforce API calls.

    make profile-api                       # connection salesforce_default
    make profile-api CONN=salesforce_uat   # another Airflow connection (AIRFLOW_CONN_* works)

Per manifest object it makes one describe and one ``SELECT COUNT()`` call (nothing else, no
extract) and prints the records, the path the extract would take (Bulk API 2.0 at or above
``volume.bulk_threshold``, else REST), the calls of each path and the total against the org's
remaining daily allowance and the project's ``volume.api_budget_share``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def profile(source: Any) -> dict[str, Any]:
    """The estimate for every manifest object (see :meth:`SalesforceVolumeSource.estimate_first_sync`)."""
    from salesops.config import object_manifest

    objects = [(o.api_name, o.cursor) for o in object_manifest().values()]
    rows = source.estimate_first_sync(objects)
    limits = source.limits()["DailyApiRequests"]
    total = sum(r["calls"] for r in rows)
    allowed = int(limits["Max"] * source.budget.share)
    used = int(limits["Max"]) - int(limits["Remaining"])
    return {
        "objects": rows,
        "total_calls": total,
        "rest_only_calls": sum(r["rest_calls"] for r in rows),
        "daily_max": int(limits["Max"]),
        "daily_remaining": int(limits["Remaining"]),
        "budget_share": source.budget.share,
        "fits_budget": used + total <= allowed,
        "profile_calls": source.api_calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Estimate the API calls of a first Salesforce sync.")
    parser.add_argument("--conn-id", default="salesforce_default")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    from salesops.sources.salesforce_bulk import SalesforceVolumeSource

    report = profile(SalesforceVolumeSource.from_conn_id(args.conn_id))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'object':<28}{'records':>12}  {'path':<6}{'calls':>8}{'REST only':>11}")
    for r in report["objects"]:
        records = "absent" if r["records"] is None else f"{r['records']:,}"
        print(f"{r['object']:<28}{records:>12}  {r['method']:<6}{r['calls']:>8,}{r['rest_calls']:>11,}")
    print(
        f"first sync: about {report['total_calls']:,} API calls ({report['rest_only_calls']:,} with REST only); "
        f"the org has {report['daily_remaining']:,} of {report['daily_max']:,} left today; budget share "
        f"{report['budget_share']:.0%}: {'fits' if report['fits_budget'] else 'does NOT fit: spread it over days'}"
        f" (this profile used {report['profile_calls']} calls)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
