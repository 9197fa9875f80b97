"""The account matcher's shortcuts at scale give what the plain computation gives (issue 17).

- a block's similar names found by halves (each pair compared once) are the pairs of the whole
  square ``cdist``;
- a pass's candidate pairs counted from its blocks' sizes (inclusion-exclusion over the keys) are
  the number of pairs it generates;
- the words' inverse document frequencies counted in Arrow are the Python count's.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from rapidfuzz import fuzz, process

from salesops.quality import duplicates as dup
from salesops.quality.catalogue import load_config

FIXTURES = Path(__file__).parents[1] / "fixtures" / "duplicates"


def _names(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    syl = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "ze", "bi", "do"]
    out = []
    for _ in range(n):
        word = "".join(rnd.choice(syl) for _ in range(rnd.randint(2, 4)))
        out.append(f"{word} {rnd.choice(['systems', 'group', 'labs', ''])}".strip())
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 7, 8, 9, 61, 300])
def test_similar_names_by_halves_are_the_square_cdist_pairs(monkeypatch, n):
    monkeypatch.setattr(dup, "_SQUARE_MAX", 8)  # recurse even in small blocks
    names = _names(n, seed=n)
    a, b = dup._similar_within(names, 70.0)
    if n:
        score = process.cdist(names, names, scorer=fuzz.ratio, score_cutoff=70.0, dtype=np.float32)
        ra, rb = np.nonzero(np.triu(score >= 70.0, 1))
    else:
        ra = rb = np.array([], dtype=np.int64)
    assert sorted(zip(a.tolist(), b.tolist(), strict=True)) == sorted(
        zip(ra.tolist(), rb.tolist(), strict=True)
    )
    assert all(x < y for x, y in zip(a.tolist(), b.tolist(), strict=True))


def _accounts_norm() -> tuple[pa.Table, dict]:
    cfg = load_config().section("duplicates")
    rules = cfg["objects"]["account"]
    acc = pd.read_csv(FIXTURES / "accounts.csv", dtype=str, keep_default_na=False)
    tbl = pa.Table.from_pandas(
        pd.DataFrame(
            {
                "record_id": acc["Account ID"],
                "name": acc["Account Name"],
                "website": acc["Website"].replace("", None),
            }
        ),
        preserve_index=False,
    )
    suffixes = {str(k): str(v) for k, v in cfg["company_suffixes"].items()}
    norm = dup.normalise_table(tbl, "account", suffixes, rules, keep=dup._needed_columns("account", rules))
    return norm, rules


@pytest.mark.parametrize(
    "keys",
    [
        [["name_prefix3"]],
        [["name_prefix3"], ["name_suffix3"], ["website_domain"]],
        [["name_suffix3"], ["name_prefix3", "website_domain"], ["website_domain"], ["name_prefix3"]],
    ],
)
def test_candidate_count_is_the_number_of_generated_pairs(keys):
    norm, _rules = _accounts_norm()
    blocks = dup._Blocks(norm)
    try:
        blocks.build(keys, 1000)
        generated = sum(len(i) for i, _j in blocks.pairs(7))
        assert generated > 0
        assert blocks.candidate_count() == generated
    finally:
        blocks.close()


def test_candidate_count_of_a_pass_with_many_keys_counts_the_pairs(monkeypatch):
    monkeypatch.setattr(dup, "_COUNT_KEYS_MAX", 1)  # the fallback: pairs generated and counted
    norm, rules = _accounts_norm()
    blocks = dup._Blocks(norm)
    try:
        blocks.build(rules["blocking"], 1000)
        assert blocks.candidate_count() == sum(len(i) for i, _j in blocks.pairs(7))
    finally:
        blocks.close()


def test_token_weights_in_arrow_are_the_python_count():
    norm, _rules = _accounts_norm()
    cores = norm.column("name_core")
    assert dup._token_weights(cores) == dup._token_weights(cores.to_pylist())
    odd = ["global logistics solutions", "global  health solutions ", " global data", "", None, "a a b"]
    assert dup._token_weights(pa.array(odd, pa.string())) == dup._token_weights(odd)
    # a whitespace str.split() knows besides the space: counted in Python
    other = [*odd, "nordic\u00a0timber", "x\ty"]
    assert dup._token_weights(pa.array(other, pa.string())) == dup._token_weights(other)
    assert dup._token_weights(pa.array([], pa.string())) == dup._token_weights([]) == {}


def test_key_groups_hold_only_values_two_records_share():
    """A pass's key groups keep the values that can make a block (two records or more): the
    blocks, the oversized blocks and the pairs are those of all the groups."""
    norm, rules = _accounts_norm()
    blocks = dup._Blocks(norm)
    try:
        key = blocks._key(["name_prefix3"])
        blocks.run("key_groups.sql", dup_key=key, dup_key_index=0)
        kept = blocks.con.execute("select min(records), count(*) from dup_groups_0").fetchone()
        every = blocks.con.execute(
            "select count(*) filter (where n >= 2) from "
            "(select count(*) as n from dup_records where name_prefix3 <> '' group by name_prefix3)"
        ).fetchone()
        assert kept[0] >= 2
        assert kept[1] == every[0] > 0
    finally:
        blocks.close()


def test_block_key_columns_let_go_once_every_pass_is_built():
    """Once the blocks of every pass are built, the columns only blocking keys read leave the
    matcher's table (DuckDB no longer scans the records); a rebuild of a pass reuses its blocks,
    a pass with new keys is refused."""
    norm, rules = _accounts_norm()
    blocks = dup._Blocks(norm)
    try:
        found = blocks.build(rules["blocking"], 1000)
        pairs = sorted(p for i, j in blocks.pairs(50) for p in zip(i.tolist(), j.tolist(), strict=True))
        slim = dup._without_block_keys(blocks, norm, "account", rules)
        assert set(slim.column_names) == dup._scored_columns("account", rules) & set(norm.column_names)
        assert not {"name_prefix3", "name_suffix3"} & set(slim.column_names)
        # the acronym step (tokens.acronyms) compares websites after the blocks are built
        assert ("website_domain" in slim.column_names) == bool(rules["tokens"].get("acronyms"))
        assert slim.column("record_id").equals(norm.column("record_id"))
        assert blocks.build(rules["blocking"], 1000) == found
        again = sorted(p for i, j in blocks.pairs(50) for p in zip(i.tolist(), j.tolist(), strict=True))
        assert again == pairs
        with pytest.raises(RuntimeError, match="after the records were released"):
            blocks.build([["name_prefix3"]], 1000)
    finally:
        blocks.close()
