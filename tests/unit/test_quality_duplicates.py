"""The duplicate matcher on its own: normalisation, exact keys, blocked fuzzy matching, clusters."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.quality.catalogue import load_config
from salesops.quality.duplicates import find_duplicates, fold, split_email, strip_punct


@pytest.fixture(scope="module")
def dup_cfg():
    return load_config().section("duplicates")


def leads(rows):
    cols = ["record_id", "first_name", "last_name", "company", "email", "created_at"]
    df = pd.DataFrame(rows, columns=cols)
    df["created_at"] = pd.to_datetime(df["created_at"])
    return df


def run(df, dup_cfg, obj="lead"):
    return find_duplicates(df, obj, dup_cfg["objects"][obj], dup_cfg["company_suffixes"])


def test_normalisation_helpers():
    assert fold(["  Zoë ÜNAL ", None]).to_pylist() == ["zoe unal", ""]
    assert strip_punct(fold(["Kemu-kopu", "Mifime,  Kamitumi LLC."])).to_pylist() == [
        "kemukopu",
        "mifime kamitumi llc",
    ]
    local, domain, norm = split_email(["Ann.Bo+News@Ex.COM", "no-at-sign", None])
    assert local.to_pylist() == ["ann.bo", "no-at-sign", ""]
    assert domain.to_pylist() == ["ex.com", "", ""]
    assert norm.to_pylist() == ["ann.bo@ex.com", "", ""]


def test_each_variant_kind(dup_cfg):
    df = leads(
        [
            ("L1", "Vatago", "Ritikure", "Kodofe Dakupelu Ltd", "vatago.ritikure@kd.example", "2026-01-01"),
            (
                "L2",
                "Vatago",
                "Ritikure",
                "Kodofe Dakupelu Ltd",
                "vatago.ritikure@kd.example",
                "2026-01-02",
            ),  # exact
            (
                "L3",
                "VATAGO",
                "ritikure",
                "KODOFE DAKUPELU LTD",
                "vatago.ritikure@kd.example",
                "2026-01-03",
            ),  # case
            (
                "L4",
                "Vatago",
                "Riti-kure",
                "Kodofe, Dakupelu Ltd",
                "vatago.ritikure@kd.example",
                "2026-01-04",
            ),  # punct
            (
                "L5",
                "Vatago",
                "Ritikure",
                "Kodofe Dakupelu Limited",
                "vatago.ritikure@kd.example",
                "2026-01-05",
            ),
            (
                "L6",
                "Vatago",
                "Ritikure",
                "Kodofe Dakupelu Ltd",
                "vatago.ritikure+web@kd.example",
                "2026-01-06",
            ),
            (
                "L7",
                "Vatago",
                "Ritiukre",
                "Kodofe Dakupelu Ltd",
                "vatago.ritiukre@kd.example",
                "2026-01-07",
            ),  # typo
            ("X1", "Meteri", "Kivatime", "Sobolo Ketomigu LLC", "meteri.kivatime@sk.example", "2026-01-01"),
        ]
    )
    r = run(df, dup_cfg)
    got = dict(
        zip(
            r.duplicates.record_id,
            zip(r.duplicates.related_id, r.duplicates.detail, strict=True),
            strict=True,
        )
    )
    assert got == {
        "L2": ("L1", "exact"),
        "L3": ("L1", "fuzzy:case"),
        "L4": ("L1", "fuzzy:punctuation"),
        "L5": ("L1", "fuzzy:company_suffix"),
        "L6": ("L1", "fuzzy:email_alias"),
        "L7": ("L1", "fuzzy:typo"),
    }
    assert r.per_1000 == pytest.approx(6 / 8 * 1000)


def test_lookalikes_are_not_duplicates(dup_cfg):
    # short names, one character apart in name, email AND company: three slips, two people
    df = leads(
        [
            ("A", "Ann", "Lee", "Co One", "ann.lee@one.example", "2026-01-01"),
            ("B", "Ann", "Lea", "Co Ono", "ann.lea@ono.example", "2026-01-02"),
            (
                "C",
                "Ann",
                "Lee",
                "Other Corp",
                "ann.lee@other.example",
                "2026-01-03",
            ),  # same name, other company
        ]
    )
    assert run(df, dup_cfg).duplicates.empty


def test_original_is_earliest_and_nulls_never_match(dup_cfg):
    df = leads(
        [
            ("L9", "Ida", "Vorn", "Acme", "ida@acme.example", "2026-03-01"),
            ("L1", "Ida", "Vorn", "Acme", "ida@acme.example", "2026-02-01"),
            ("N1", None, None, None, None, "2026-01-01"),
            ("N2", None, None, None, None, "2026-01-01"),
            ("U1", "Þóra", "Ñúñez", "株式会社テスト", "thora@test.example", "2026-01-01"),
            ("U2", "Þóra", "Ñúñez", "株式会社テスト", "thora@test.example", "2026-01-05"),
        ]
    )
    d = run(df, dup_cfg).duplicates
    assert set(zip(d.record_id, d.related_id, d.detail, strict=True)) == {
        ("L9", "L1", "exact"),
        ("U2", "U1", "exact"),
    }


def test_empty_and_single_record(dup_cfg):
    assert run(leads([]), dup_cfg).duplicates.empty
    one = run(leads([("L1", "A", "B", "C", "a@b.example", "2026-01-01")]), dup_cfg)
    assert one.duplicates.empty and one.per_1000 == 0


def test_accounts_suffix_and_typo(dup_cfg):
    df = pd.DataFrame(
        {
            "record_id": ["A1", "A2", "A3", "A4", "A5"],
            "name": [
                "Vakate Pemekede Corp.",
                "Vakate-Pemekede, Corporation",
                "Numeno Kebibore GmbH",
                "Numeno Kebibroe GmbH",
                "Numeno Holdings GmbH",
            ],
            "website": ["vp.example", None, "nk.example", "nk.example", "nh.example"],
            "created_at": pd.to_datetime(["2025-01-01"] * 5),
        }
    )
    d = run(df, dup_cfg, "account").duplicates
    assert set(zip(d.record_id, d.related_id, d.detail, strict=True)) == {
        ("A2", "A1", "fuzzy:company_suffix"),
        ("A4", "A3", "fuzzy:typo"),
    }


def test_oversized_blocks_are_reported_as_not_compared(dup_cfg):
    # three leads share company + first name: one block of 3; with max_block_size 2 it is not
    # compared (reported, not a silent "0 duplicates"); with the policy's 1000 it gives 3 pairs
    df = leads(
        [
            ("B1", "Ana", "Bori", "Kodofe Ltd", "ana.bori@kd.example", "2026-01-01"),
            ("B2", "Ana", "Cusi", "Kodofe Ltd", "ana.cusi@kd.example", "2026-01-02"),
            ("B3", "Ana", "Dumo", "Kodofe Ltd", "ana.dumo@kd.example", "2026-01-03"),
        ]
    )
    rules = dict(dup_cfg["objects"]["lead"])
    full = find_duplicates(df, "lead", rules, dup_cfg["company_suffixes"])
    assert (full.skipped_blocks, full.skipped_records, full.not_evaluated) == (0, 0, None)
    # 3 pairs in the fuzzy pass, and the same 3 in the person pass (its company + given name key)
    assert full.candidate_pairs == 6 and full.duplicates.empty
    small = find_duplicates(df, "lead", {**rules, "max_block_size": 2}, dup_cfg["company_suffixes"])
    # the fuzzy pass's block is skipped and reported; the person pass (its own block limit) still
    # compares the three
    assert (small.skipped_blocks, small.skipped_records, small.candidate_pairs) == (1, 3, 3)
    assert small.not_evaluated == (
        "1 blocking groups over max_block_size not compared (3 records in them): "
        "company_norm+first_norm: 1 blocks of > 2 records (3 records)"
    )


def test_unknown_blocking_column_is_a_config_error(dup_cfg):
    df = leads([("L1", "Ana", "Bori", "K", "a@k.example", "2026-01-01")] * 2)
    rules = {**dup_cfg["objects"]["lead"], "blocking": [["company_norm", "shoe_size"]]}
    with pytest.raises(ValueError, match=r"shoe_size"):
        find_duplicates(df, "lead", rules, dup_cfg["company_suffixes"])


def test_account_names_without_any_shared_block_give_no_pairs_not_an_error(dup_cfg):
    """The block-wise account pass with keys that form no block at all (every name distinct in
    its first and last three letters, no website): 0 candidate pairs, 0 duplicates."""
    import pandas as pd

    from salesops.quality.duplicates import find_duplicates

    df = pd.DataFrame(
        {
            "record_id": ["A1", "A2", "A3"],
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
            "name": ["Sample Freight", "Demo Clinic", "Example Haulage"],
            "website": [None, None, None],
        }
    )
    r = find_duplicates(df, "account", dup_cfg["objects"]["account"], dup_cfg["company_suffixes"])
    assert (r.candidate_pairs, r.matched_pairs, len(r.duplicates)) == (0, 0, 0)


def test_strip_punct_and_email_alias_equal_the_regexes_on_every_string():
    """strip_punct and the plus-alias removal run their regexes only on the strings they can
    change: the result must equal the regexes run over every string, whatever mix of strings
    (none, few or most with punctuation; unicode; tabs; double spaces) comes in."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def reference(arr):
        arr = pc.replace_substring_regex(arr, r"[^\p{L}\p{N}\s]+", "")
        return pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"\s+", " "))

    tricky = ["o'neil", "anne-marie", "a  b", "tab\there", "x\u00a0y", "zoë", "ǅemal", "a\u0301b", "x\vy"]
    tricky += ["", " lead ", "12 main st.", "über straße 5", "plain", "two words", "ürün", "日本 語"]
    for values in (tricky, ["plain", "two words"] * 50, ["plain"] * 99 + ["o'neil"], [""] * 5):
        arr = pa.array(values, pa.string())
        assert strip_punct(arr).to_pylist() == reference(arr).to_pylist()
    emails = ["a+b@x.example", "plain@x.example", "+@x", "a+b+c", "", "no-at", "x+y@z+w.example"]
    for values in (emails, emails[1:2] * 40, emails * 3):
        local = split_email(values)[0]
        low = pc.utf8_lower(pc.utf8_trim_whitespace(pa.array(values, pa.string())))
        has_at = pc.match_substring(low, "@")
        expected = pc.if_else(has_at, pc.replace_substring_regex(low, r"@.*$", ""), low)
        assert local.to_pylist() == pc.replace_substring_regex(expected, r"\+.*$", "").to_pylist()


def test_normalise_table_computes_only_the_kept_columns(dup_cfg):
    """A key nobody reads (company_token, email_local4, name_any3 under the shipped lead rules) is
    not computed; the kept columns equal those of a full normalisation."""
    from salesops.quality.duplicates import _as_table, _needed_columns, normalise_table

    df = leads([("L1", "Ann", "O'Neil", "Acme Inc.", "ann+x@acme.example", "2026-01-01")])
    rules = dup_cfg["objects"]["lead"]
    keep = _needed_columns("lead", rules)
    part = normalise_table(_as_table(df), "lead", dup_cfg["company_suffixes"], rules, keep=keep)
    full = normalise_table(_as_table(df), "lead", dup_cfg["company_suffixes"], rules)
    assert {"company_token", "email_local4", "name_any3"} <= set(full.column_names) - set(part.column_names)
    for name in part.column_names:
        assert part.column(name).to_pylist() == full.column(name).to_pylist(), name
