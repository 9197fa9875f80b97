"""Duplicate detection for leads, contacts and accounts: exact keys + blocked fuzzy matching.

1. Normalise (vectorised with pyarrow): case and accents folded, punctuation deleted, company
   legal suffixes mapped to one canonical token (quality.yaml duplicates.company_suffixes),
   email plus-aliases removed.
2. Exact-key passes: records that share every part of a configured key after normalisation
   (e.g. the normalised email, or first+last+company) are duplicates. This catches exact copies
   and the case / punctuation / suffix / alias variants.
3. Fuzzy pass: candidate pairs are records that share a blocking key (e.g. last-name initials +
   email domain); the pairs are scored with rapidfuzz (``cpdist``, pairwise, multi-threaded) and
   kept when the weighted similarity reaches ``min_score``, each field reaches its floor and at
   least ``min_equal_fields`` fields agree exactly (one slip per duplicate, not three).
   Blocking keeps the work proportional to the number of records, not its square; blocks above
   ``max_block_size`` are skipped and logged (a key that is too coarse, not a duplicate).
4. Clusters = connected components of the matched pairs. The earliest-created record (ties:
   lowest id) is the original; every other member is a duplicate of it, labelled with the match
   kind that explains the difference (exact, fuzzy:case|punctuation|company_suffix|email_alias|typo).

Duplicates per 1,000 = duplicate records (cluster members other than the original) per 1,000
records of the object.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from re import escape as re_escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

# Which roles a match kind is judged on (the fields a person/company is recognised by).
COMPARE_ROLES = {
    "lead": ["first_name", "last_name", "company", "email"],
    "contact": ["first_name", "last_name", "company", "email"],
    "account": ["name"],
}


def _str(values: Any) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values, type=pa.string(), from_pandas=True)
    return pc.fill_null(arr, "")


def fold(values: Any) -> pa.Array:
    """Lower case, accents removed, surrounding blanks stripped."""
    import pyarrow.compute as pc

    arr = pc.utf8_normalize(_str(values), "NFKD")
    arr = pc.replace_substring_regex(arr, r"\p{Mn}", "")
    return pc.utf8_trim_whitespace(pc.utf8_lower(arr))


def strip_punct(arr: pa.Array) -> pa.Array:
    """Punctuation deleted ("Kemu-kopu" -> "kemukopu"), whitespace runs collapsed; unicode letters kept."""
    import pyarrow.compute as pc

    arr = pc.replace_substring_regex(arr, r"[^\p{L}\p{N}\s]+", "")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"\s+", " "))


def canon_suffixes(arr: pa.Array, suffixes: dict[str, str]) -> pa.Array:
    """Map legal-suffix tokens to their canonical token (``incorporated`` -> ``inc``)."""
    import pyarrow.compute as pc

    for variant, canonical in suffixes.items():
        if variant != canonical:
            arr = pc.replace_substring_regex(arr, rf"(^| ){variant}( |$)", rf"\1{canonical}\2")
    return arr


def split_email(values: Any) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(local part without plus-alias, domain, normalised address) of lower-cased emails."""
    import pyarrow.compute as pc

    arr = pc.utf8_lower(pc.utf8_trim_whitespace(_str(values)))
    has_at = pc.match_substring(arr, "@")
    local = pc.if_else(has_at, pc.replace_substring_regex(arr, r"@.*$", ""), arr)
    domain = pc.if_else(has_at, pc.replace_substring_regex(arr, r"^.*@", ""), "")
    local = pc.replace_substring_regex(local, r"\+.*$", "")
    norm = pc.if_else(
        pc.and_(has_at, pc.greater(pc.utf8_length(local), 0)),
        pc.binary_join_element_wise(local, domain, "@"),
        "",
    )
    return local, domain, norm


def normalise(df: pd.DataFrame, object_name: str, suffixes: dict[str, str]) -> pd.DataFrame:
    """Add the normalised and blocking-key columns the matcher uses (all strings, '' = missing)."""
    import pandas as pd
    import pyarrow.compute as pc

    out = pd.DataFrame({"record_id": df["record_id"].astype(str).to_numpy()})

    def first_chars(arr: pa.Array, n: int) -> pa.Array:
        return pc.utf8_slice_codeunits(pc.replace_substring(arr, " ", ""), 0, n)

    if object_name == "account":
        name = canon_suffixes(strip_punct(fold(df["name"])), suffixes)
        compact = pc.replace_substring(name, " ", "")
        # blocking keys on the name without its legal suffix ("... Inc" would put every
        # incorporated company in one suffix block)
        canon = "|".join(sorted({re_escape(v) for v in suffixes.values()}))
        core = pc.replace_substring(pc.replace_substring_regex(name, rf"( ({canon}))+$", ""), " ", "")
        site = pc.replace_substring_regex(
            fold(df.get("website", pd.Series([None] * len(df)))), r"^(https?://)?(www\.)?", ""
        )
        site = pc.replace_substring_regex(site, r"[/?#].*$", "")
        out["name_norm"] = name.to_pandas()
        out["name_compact"] = compact.to_pandas()
        out["name_prefix3"] = pc.utf8_slice_codeunits(core, 0, 3).to_pandas()
        out["name_suffix3"] = [s[-3:] for s in core.to_pylist()]
        out["website_domain"] = site.to_pandas()
        out["match_name"] = out["name_norm"]
        return out

    first = strip_punct(fold(df["first_name"]))
    last = strip_punct(fold(df["last_name"]))
    company = canon_suffixes(strip_punct(fold(df["company"])), suffixes)
    local, domain, email = split_email(df["email"])
    out["first_norm"] = first.to_pandas()
    out["last_norm"] = last.to_pandas()
    out["company_norm"] = company.to_pandas()
    out["email_norm"] = email.to_pandas()
    out["email_domain"] = domain.to_pandas()
    out["last_initials"] = first_chars(last, 2).to_pandas()
    out["first_initial"] = first_chars(first, 1).to_pandas()
    out["company_token"] = pc.replace_substring_regex(company, r" .*$", "").to_pandas()
    out["email_local4"] = pc.utf8_slice_codeunits(local, 0, 4).to_pandas()
    out["match_name"] = (out["first_norm"] + " " + out["last_norm"]).str.strip()
    return out


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class DuplicateResult:
    """Clusters of one object: one row per clustered record (original and duplicates)."""

    object: str
    clusters: pd.DataFrame  # record_id, cluster_id, is_original, match_kind, score
    records: int
    candidate_pairs: int
    matched_pairs: int
    skipped_blocks: int
    seconds: float

    @property
    def duplicates(self) -> pd.DataFrame:
        """Duplicate records (not the original): record_id, related_id (original), detail (kind)."""
        d = self.clusters[~self.clusters["is_original"]]
        return d.rename(columns={"cluster_id": "related_id", "match_kind": "detail"})[
            ["record_id", "related_id", "detail", "score"]
        ].reset_index(drop=True)

    @property
    def per_1000(self) -> float | None:
        return None if self.records == 0 else len(self.duplicates) * 1000.0 / self.records


def _candidate_pairs(
    norm: pd.DataFrame, blocking: list[list[str]], max_block: int
) -> tuple[pd.DataFrame, int]:
    """Distinct (i, j) row pairs, i < j, that share at least one blocking key (DuckDB self-join)."""
    import duckdb
    import pandas as pd

    con = duckdb.connect()
    try:
        frames = []
        skipped = 0
        for key in blocking:
            cols = list(key)
            keys = norm[cols].copy()
            keys["idx"] = range(len(norm))
            con.register("k", keys)
            non_empty = " and ".join(f"{c} <> ''" for c in cols)
            group = ", ".join(cols)
            skipped += con.execute(
                f"select count(*) from (select {group} from k where {non_empty} group by {group} "
                f"having count(*) > {int(max_block)})"
            ).fetchone()[0]
            frames.append(
                con.execute(
                    f"""
                with b as (select idx, {group} from k where {non_empty}),
                ok as (select {group} from b group by {group} having count(*) between 2 and {int(max_block)})
                select a.idx as i, c.idx as j
                from b a join ok using ({group}) join b c using ({group})
                where a.idx < c.idx
                """
                ).df()
            )
            con.unregister("k")
        if not frames:
            return pd.DataFrame({"i": [], "j": []}, dtype="int64"), skipped
        pairs = pd.concat(frames, ignore_index=True).drop_duplicates(ignore_index=True)
        return pairs, skipped
    finally:
        con.close()


_ROLE_COLS = {"name": "match_name", "email": "email_norm", "company": "company_norm"}


def _weighted_scores(
    columns: dict[str, Any], pairs: pd.DataFrame, weights: dict[str, float]
) -> dict[str, Any]:
    """Per-field rapidfuzz ratios (NaN where either side is empty) and the weighted score."""
    import numpy as np
    from rapidfuzz import fuzz, process

    i = pairs["i"].to_numpy()
    j = pairs["j"].to_numpy()
    total = np.zeros(len(pairs))
    weight_sum = np.zeros(len(pairs))
    per_field: dict[str, Any] = {}
    for role, w in weights.items():
        col = columns[role]
        a, b = col[i], col[j]
        present = (a != "") & (b != "")
        score = process.cpdist(list(a), list(b), scorer=fuzz.ratio, workers=-1, dtype=np.float32).astype(
            float
        )
        score[~present] = np.nan
        per_field[role] = score
        total += np.where(present, score * w, 0.0)
        weight_sum += np.where(present, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_field["_weighted"] = np.where(weight_sum > 0, total / np.maximum(weight_sum, 1e-9), np.nan)
    return per_field


def _match_kind(raw: pd.DataFrame, dup: int, orig: int, roles: list[str], suffixes: dict[str, str]) -> str:
    """The lightest normalisation that makes the duplicate equal to its original."""
    import unicodedata

    def folded(v: Any) -> str:
        s = unicodedata.normalize("NFKD", "" if v is None or v != v else str(v))
        return "".join(ch for ch in s if not unicodedata.combining(ch)).strip().lower()

    def words(v: Any) -> list[str]:
        return "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in folded(v)).split()

    # punctuation variants insert, drop or swap separators ("Kemu-kopu"/"Kemukopu",
    # "Vakate-Pemekede, Corp"/"Vakate Pemekede Corp."): compare with every separator removed
    def punct(v: Any) -> str:
        return "".join(words(v))

    def suffix(v: Any) -> str:
        return "".join(suffixes.get(t, t) for t in words(v))

    def alias(role: str, v: Any) -> str:
        s = suffix(v) if role != "email" else folded(v)
        if role == "email" and "@" in s:
            local, _, domain = s.partition("@")
            s = local.split("+", 1)[0] + "@" + domain
        return s

    def raw_s(v: Any) -> str:
        return "" if v is None or v != v else str(v).strip()

    levels = [
        ("exact", lambda r, v: raw_s(v)),
        ("fuzzy:case", lambda r, v: raw_s(v).lower()),
        ("fuzzy:punctuation", lambda r, v: punct(v) if r != "email" else folded(v)),
        ("fuzzy:company_suffix", lambda r, v: suffix(v) if r != "email" else folded(v)),
        ("fuzzy:email_alias", alias),
    ]
    a, b = raw.iloc[dup], raw.iloc[orig]
    for kind, fn in levels:
        if all(fn(r, a[r]) == fn(r, b[r]) for r in roles):
            return kind
    return "fuzzy:typo"


def find_duplicates(
    df: pd.DataFrame, object_name: str, rules: dict[str, Any], suffixes: dict[str, str]
) -> DuplicateResult:
    """Cluster duplicate records of one object.

    Args:
        df: one row per record with ``record_id``, ``created_at`` and the matcher roles
            (lead/contact: first_name, last_name, company, email; account: name, website).
        object_name: lead, contact or account.
        rules: quality.yaml ``duplicates.objects.<object>``.
        suffixes: quality.yaml ``duplicates.company_suffixes``.
    """
    import numpy as np
    import pandas as pd

    t0 = time.monotonic()
    df = df.reset_index(drop=True)
    n = len(df)
    empty = pd.DataFrame(
        {
            "record_id": pd.Series(dtype=str),
            "cluster_id": pd.Series(dtype=str),
            "is_original": pd.Series(dtype=bool),
            "match_kind": pd.Series(dtype=str),
            "score": pd.Series(dtype=float),
        }
    )
    if n < 2:
        return DuplicateResult(object_name, empty, n, 0, 0, 0, time.monotonic() - t0)
    norm = normalise(df, object_name, suffixes)
    uf = _UnionFind(n)
    pair_score: dict[tuple[int, int], float] = {}

    # exact-key passes
    for key in rules.get("keys", []):
        cols = list(key)
        sub = norm[cols].copy()
        sub["idx"] = np.arange(n)
        sub = sub[(sub[cols] != "").all(axis=1)]
        first = sub.groupby(cols, sort=False)["idx"].transform("min")
        for a, b in zip(
            sub["idx"].to_numpy()[sub["idx"].to_numpy() != first.to_numpy()],
            first.to_numpy()[sub["idx"].to_numpy() != first.to_numpy()],
            strict=True,
        ):
            uf.union(int(a), int(b))
            pair_score[(int(b), int(a))] = 100.0

    # fuzzy pass
    weights = dict(rules.get("weights", {}))
    if object_name == "account":
        weights = {"name": 1.0}
    pairs, skipped = _candidate_pairs(norm, rules.get("blocking", []), int(rules.get("max_block_size", 2000)))
    if skipped:
        log.warning(
            "%s: %d blocking groups larger than %s skipped", object_name, skipped, rules.get("max_block_size")
        )
    matched = 0
    chunk = int(rules.get("score_chunk_pairs", 1_000_000))
    columns = {role: norm[_ROLE_COLS[role]].to_numpy(dtype=object) for role in weights} if len(pairs) else {}
    for start in range(0, len(pairs), chunk):  # bounded memory however many candidates there are
        part = pairs.iloc[start : start + chunk]
        scores = _weighted_scores(columns, part, weights)
        ok = scores["_weighted"] >= float(rules.get("min_score", 90))
        for role, floor in (rules.get("field_floor") or {}).items():
            s = scores.get(role)
            if s is not None:
                ok &= np.isnan(s) | (s >= float(floor))
        ok &= ~np.isnan(scores["_weighted"])
        # The typo model: a duplicate is the same record re-keyed with a slip in one place, so
        # the other fields must agree exactly after normalisation. This is what keeps two
        # different people with look-alike short names/emails at look-alike companies apart.
        min_equal = int(rules.get("min_equal_fields", 0))
        if min_equal:
            equal = sum(np.nan_to_num(scores[r], nan=0.0) >= 100.0 for r in weights)
            ok &= equal >= min_equal
        hits = part[ok]
        matched += int(ok.sum())
        for a, b, s in zip(hits["i"].to_numpy(), hits["j"].to_numpy(), scores["_weighted"][ok], strict=True):
            uf.union(int(a), int(b))
            pair_score.setdefault((int(a), int(b)), float(s))

    roots = np.array([uf.find(k) for k in range(n)])
    sizes = np.bincount(roots, minlength=n)
    members = np.nonzero(sizes[roots] > 1)[0]
    if len(members) == 0:
        return DuplicateResult(object_name, empty, n, len(pairs), matched, skipped, time.monotonic() - t0)
    created = (
        pd.to_datetime(df["created_at"], errors="coerce")
        if "created_at" in df
        else pd.Series(pd.NaT, index=df.index)
    )
    frame = pd.DataFrame(
        {
            "idx": members,
            "root": roots[members],
            "created": created.to_numpy()[members],
            "record_id": norm["record_id"].to_numpy()[members],
        }
    )
    frame = frame.sort_values(["root", "created", "record_id"], na_position="last")
    original_idx = frame.groupby("root")["idx"].transform("first")
    frame["orig"] = original_idx.to_numpy()
    roles = COMPARE_ROLES[object_name]
    raw = df[roles]
    rows = []
    ids = norm["record_id"].to_numpy()
    for idx, orig in zip(frame["idx"].to_numpy(), frame["orig"].to_numpy(), strict=True):
        if idx == orig:
            rows.append((ids[idx], ids[orig], True, None, None))
        else:
            key = (min(idx, orig), max(idx, orig))
            rows.append(
                (
                    ids[idx],
                    ids[orig],
                    False,
                    _match_kind(raw, int(idx), int(orig), roles, suffixes),
                    pair_score.get(key, pair_score.get((orig, idx))),
                )
            )
    clusters = pd.DataFrame(rows, columns=["record_id", "cluster_id", "is_original", "match_kind", "score"])
    return DuplicateResult(object_name, clusters, n, len(pairs), matched, skipped, time.monotonic() - t0)
