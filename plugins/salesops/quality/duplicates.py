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
   Accounts (``account.tokens``): names are compared on their *core* (legal suffixes in several
   languages, "the", "and"/"&" and configured abbreviations removed) by a token score in which
   each word weighs its inverse document frequency among the object's names, so two companies
   that only share common words ("Global ... Solutions") score low while a distinctive word with
   a typo still matches.
4. Person pass (lead/contact ``person``): candidates share a postal code, phone, street, email or
   (order-free) name key; a pair matches when the names agree with first/last possibly swapped
   (Jaro-Winkler per part) AND a contact point agrees (email, phone or postal address): a shared
   name alone never matches.
5. Clusters: matched pairs are merged best first (union-find), but two groups are never merged
   when a pair across them was compared and rejected, so one shared name cannot chain different
   people into one cluster. The earliest-created record (ties: lowest id) is the original; every
   other member is a duplicate of it, labelled with the match kind that explains the difference
   (exact, fuzzy:case|punctuation|company_suffix|email_alias|name_order|typo).

A check whose data has no usable key (every blocking and exact key empty in every record, e.g.
leads without email, company, phone or address) is reported as not evaluable (``unusable``)
instead of "0 duplicates".

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
# Person roles the person pass reads when the input has them (absent = empty).
PERSON_ROLES = ("phone", "street", "city", "postal_code", "state", "country")


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


def company_core(
    name: pa.Array, suffixes: dict[str, str], stopwords: list[str], abbreviations: dict[str, str]
) -> pa.Array:
    """A normalised company name without its legal form: ``Alpine Bergbau GmbH & Co. KG`` ->
    ``alpine bergbau``; ``The Granite Group`` -> ``granite group``; ``Summit Energy Intl`` ->
    ``summit energy international``. A name that is nothing but a legal form keeps it."""
    import pyarrow.compute as pc

    for variant, full in abbreviations.items():
        name = pc.replace_substring_regex(name, rf"(^| ){re_escape(variant)}( |$)", rf"\1{full}\2")
    for word in stopwords:
        for _ in range(2):  # adjacent stopwords share the space between them
            name = pc.replace_substring_regex(name, rf"(^| ){re_escape(word)}( |$)", " ")
    name = pc.utf8_trim_whitespace(pc.replace_substring_regex(name, r"\s+", " "))
    canon = "|".join(sorted({re_escape(v) for v in suffixes.values()}, key=lambda v: (-len(v), v)))
    core = pc.utf8_trim_whitespace(pc.replace_substring_regex(name, rf"( ({canon}))+$", ""))
    return pc.if_else(pc.equal(core, ""), name, core)


def _digits(values: Any) -> pa.Array:
    """Phone numbers compared on their last 9 digits (country prefixes and punctuation vary)."""
    import pyarrow.compute as pc

    d = pc.replace_substring_regex(_str(values), r"\D+", "")
    n = pc.utf8_length(d)
    tail = pc.utf8_slice_codeunits(d, -9)
    return pc.if_else(pc.less(n, 7), "", tail)


def normalise(
    df: pd.DataFrame, object_name: str, suffixes: dict[str, str], rules: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Add the normalised and blocking-key columns the matcher uses (all strings, '' = missing)."""
    import pandas as pd
    import pyarrow.compute as pc

    rules = rules or {}
    out = pd.DataFrame({"record_id": df["record_id"].astype(str).to_numpy()})

    def col(name: str) -> Any:
        return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index)

    def first_chars(arr: pa.Array, n: int) -> pa.Array:
        return pc.utf8_slice_codeunits(pc.replace_substring(arr, " ", ""), 0, n)

    if object_name == "account":
        name = canon_suffixes(strip_punct(fold(df["name"])), suffixes)
        tok = rules.get("tokens") or {}
        core = company_core(
            name,
            suffixes,
            list(tok.get("stopwords", [])),
            {str(k): str(v) for k, v in (tok.get("abbreviations") or {}).items()},
        )
        compact = pc.replace_substring(core, " ", "")
        site = pc.replace_substring_regex(fold(col("website")), r"^(https?://)?(www\.)?", "")
        site = pc.replace_substring_regex(site, r"[/?#].*$", "")
        out["name_norm"] = name.to_pandas()
        out["name_core"] = core.to_pandas()
        # blocking and exact keys on the core ("... Inc" would put every incorporated company in
        # one block; "Tri-County" and "Tri County" share the compact core)
        out["name_compact"] = compact.to_pandas()
        out["name_prefix3"] = pc.utf8_slice_codeunits(compact, 0, 3).to_pandas()
        out["name_suffix3"] = [s[-3:] for s in compact.to_pylist()]
        out["website_domain"] = site.to_pandas()
        out["match_name"] = out["name_core"]
        return out

    first = strip_punct(fold(df["first_name"]))
    last = strip_punct(fold(df["last_name"]))
    company = canon_suffixes(strip_punct(fold(col("company"))), suffixes)
    local, domain, email = split_email(col("email"))
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
    # person pass: contact points and order-free name keys
    out["phone_norm"] = _digits(col("phone")).to_pandas()
    street = strip_punct(fold(col("street")))
    out["street_norm"] = street.to_pandas()
    out["street_number"] = pc.replace_substring_regex(
        pc.replace_substring_regex(street, r"^\D*", ""), r"\D.*$", ""
    ).to_pandas()
    out["city_norm"] = strip_punct(fold(col("city"))).to_pandas()
    out["postal_norm"] = pc.replace_substring(strip_punct(fold(col("postal_code"))), " ", "").to_pandas()
    out["state_norm"] = strip_punct(fold(col("state"))).to_pandas()
    lo = out[["first_norm", "last_norm"]].min(axis=1)
    hi = out[["first_norm", "last_norm"]].max(axis=1)
    both = (out["first_norm"] != "") & (out["last_norm"] != "")
    out["name_sorted"] = (lo + " " + hi).where(both, "")
    out["name_any3"] = [
        "|".join(sorted(t[:3] for t in (f, la) if t))
        for f, la in zip(out["first_norm"], out["last_norm"], strict=True)
    ]
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
    unusable: bool = False  # no exact or blocking key has a value: the check cannot be evaluated

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


def _token_weights(cores: Any) -> dict[str, float]:
    """Inverse document frequency of each word among the object's names: log(1 + N / df)."""
    import math
    from collections import Counter

    docs = [set(c.split()) for c in cores if c]
    df = Counter(t for d in docs for t in d)
    n = max(len(docs), 1)
    return {t: math.log(1.0 + n / k) for t, k in df.items()}


def token_score(a: str, b: str, weights: dict[str, float], token_floor: float) -> float:
    """Weighted word agreement of two names (0-100): every word of each name is paired with its
    most similar word of the other (rapidfuzz ratio; below ``token_floor`` counts 0) and weighs
    its inverse document frequency, so a distinctive word decides and common words barely count.
    """
    from rapidfuzz import fuzz

    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return 0.0
    default = max(weights.values(), default=1.0)
    num = den = 0.0
    for mine, theirs in ((ta, tb), (tb, ta)):
        for t in mine:
            w = weights.get(t, default)
            best = max(fuzz.ratio(t, u) for u in theirs)
            num += w * (best if best >= token_floor else 0.0)
            den += w * 100.0
    return 100.0 * num / den if den else 0.0


def _jw(a: Any, b: Any) -> Any:
    """Pairwise Jaro-Winkler similarity (0-1) of two object arrays of strings."""
    import numpy as np
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    return process.cpdist(list(a), list(b), scorer=JaroWinkler.normalized_similarity, workers=-1).astype(
        np.float64
    )


def _person_scores(norm: pd.DataFrame, pairs: pd.DataFrame, rules: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(matched mask, score 0-100, names agree) of the person pass for candidate pairs."""
    import numpy as np
    from rapidfuzz import fuzz, process

    i, j = pairs["i"].to_numpy(), pairs["j"].to_numpy()

    def sides(column: str) -> tuple[Any, Any, Any]:
        v = norm[column].to_numpy(dtype=object)
        a, b = v[i], v[j]
        return a, b, (a != "") & (b != "")

    fa, fb, f_ok = sides("first_norm")
    la, lb, l_ok = sides("last_norm")
    straight = (_jw(fa, fb) + _jw(la, lb)) / 2.0
    swapped = (_jw(fa, lb) + _jw(la, fb)) / 2.0
    name = np.maximum(straight, swapped)
    # one name part missing on a side: the present parts must agree (either order)
    half = np.maximum.reduce([_jw(fa, fb) * f_ok, _jw(la, lb) * l_ok, _jw(fa, lb), _jw(la, fb)])
    both = f_ok & l_ok
    name = np.where(both, name, half)
    name_ok = name >= float(rules.get("name_min", 0.88))

    weights = {str(k): float(v) for k, v in (rules.get("weights") or {}).items()}
    total = name * 100.0 * weights.get("name", 1.0)
    wsum = np.full(len(pairs), weights.get("name", 1.0))
    evidence = np.zeros(len(pairs), dtype=bool)
    floors = {str(k): float(v) for k, v in (rules.get("evidence") or {}).items()}
    fields = {
        "email": "email_norm",
        "phone": "phone_norm",
        "street": "street_norm",
        "city": "city_norm",
        "postal_code": "postal_norm",
        "company": "company_norm",
    }
    sims: dict[str, Any] = {}
    for role, column in fields.items():
        a, b, ok = sides(column)
        if not ok.any():
            sims[role] = np.full(len(pairs), np.nan)
            continue
        sim = process.cpdist(list(a), list(b), scorer=fuzz.ratio, workers=-1).astype(np.float64)
        if role == "street":  # words run together or split ("whistlerplace"), or a part missing
            compact = process.cpdist(
                [x.replace(" ", "") for x in a],
                [x.replace(" ", "") for x in b],
                scorer=fuzz.ratio,
                workers=-1,
            )
            sim = np.maximum.reduce(
                [sim, compact, process.cpdist(list(a), list(b), scorer=fuzz.token_set_ratio, workers=-1)]
            ).astype(np.float64)
        sim[~ok] = np.nan
        sims[role] = sim
        w = weights.get(role, 0.0)
        total += np.where(ok, sim * w, 0.0)
        wsum += np.where(ok, w, 0.0)
    for role in ("email", "phone", "company"):
        if role in floors:
            evidence |= np.nan_to_num(sims[role], nan=0.0) >= floors[role]
    # an address agrees when the street does and so does the postal code or the city
    if "street" in floors:
        street_ok = np.nan_to_num(sims["street"], nan=0.0) >= floors["street"]
        place_ok = (np.nan_to_num(sims["postal_code"], nan=0.0) >= floors.get("postal_code", 100.0)) | (
            np.nan_to_num(sims["city"], nan=0.0) >= floors.get("city", 90.0)
        )
        evidence |= street_ok & place_ok
    score = total / np.maximum(wsum, 1e-9)
    ok = name_ok & evidence & (score >= float(rules.get("min_score", 85)))
    return ok, score, name_ok


def _match_kind(
    raw: pd.DataFrame,
    dup: int,
    orig: int,
    roles: list[str],
    suffixes: dict[str, str],
    core: Any = None,
) -> str:
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
    if core is not None and core[dup] and core[dup] == core[orig]:
        return "fuzzy:company_suffix"  # the legal form (or "the", "&") differs, or is missing
    if (
        "first_name" in roles
        and punct(a["first_name"])
        and (
            punct(a["first_name"]) == punct(b["last_name"])
            and punct(a["last_name"]) == punct(b["first_name"])
        )
    ):
        return "fuzzy:name_order"
    return "fuzzy:typo"


def _usable(norm: pd.DataFrame, rules: dict[str, Any]) -> bool:
    """Whether any exact or blocking key has a value in at least two records."""
    keys = [list(k) for k in rules.get("keys", [])] + [list(k) for k in rules.get("blocking", [])]
    keys += [list(k) for k in (rules.get("person") or {}).get("blocking", [])]
    for key in keys:
        if all(c in norm.columns for c in key) and int((norm[key] != "").all(axis=1).sum()) >= 2:
            return True
    return False


def _rejected_between_matched(
    parts: list[tuple[Any, Any]], matched: dict[tuple[int, int], float]
) -> set[tuple[int, int]]:
    """Compared-and-rejected pairs whose two records are both in some matched pair (only those can
    bridge two groups), minus pairs another pass matched."""
    import numpy as np

    if not parts or not matched:
        return set()
    nodes = np.fromiter({x for pair in matched for x in pair}, dtype=np.int64)
    i = np.concatenate([p[0] for p in parts]).astype(np.int64)
    j = np.concatenate([p[1] for p in parts]).astype(np.int64)
    keep = np.isin(i, nodes) & np.isin(j, nodes)
    return {(int(a), int(b)) for a, b in zip(i[keep], j[keep], strict=True)} - set(matched)


def _cluster(n: int, matched: dict[tuple[int, int], float], rejected: set[tuple[int, int]]) -> Any:
    """Union-find over the matched pairs, best score first, refusing a merge across which some
    compared pair was rejected (no chaining of different people through one shared value)."""
    import numpy as np

    uf = _UnionFind(n)
    members: dict[int, list[int]] = {}
    for (a, b), _score in sorted(matched.items(), key=lambda kv: (-kv[1], kv[0])):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        ma, mb = members.get(ra, [ra]), members.get(rb, [rb])
        if rejected and any((min(x, y), max(x, y)) in rejected for x in ma for y in mb):
            continue
        uf.union(a, b)
        root = uf.find(a)
        members[root] = ma + mb
        members.pop(ra if root != ra else rb, None)
    return np.array([uf.find(k) for k in range(n)])


def find_duplicates(
    df: pd.DataFrame, object_name: str, rules: dict[str, Any], suffixes: dict[str, str]
) -> DuplicateResult:
    """Cluster duplicate records of one object.

    Args:
        df: one row per record with ``record_id``, ``created_at`` and the matcher roles
            (lead/contact: first_name, last_name, company, email and, where the source has them,
            phone, street, city, postal_code, state, country; account: name, website).
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
    norm = normalise(df, object_name, suffixes, rules)
    if not _usable(norm, rules):
        return DuplicateResult(object_name, empty, n, 0, 0, 0, time.monotonic() - t0, unusable=True)
    pair_score: dict[tuple[int, int], float] = {}
    rejected_parts: list[tuple[Any, Any]] = []

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
            pair_score[(min(int(a), int(b)), max(int(a), int(b)))] = 100.0

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
    candidates = len(pairs)
    chunk = int(rules.get("score_chunk_pairs", 1_000_000))
    columns = {role: norm[_ROLE_COLS[role]].to_numpy(dtype=object) for role in weights} if len(pairs) else {}
    tok = rules.get("tokens") or {}
    idf = _token_weights(norm["name_core"]) if object_name == "account" and tok else {}
    for start in range(0, len(pairs), chunk):  # bounded memory however many candidates there are
        part = pairs.iloc[start : start + chunk]
        scores = _weighted_scores(columns, part, weights)
        if idf:
            # the whole-string ratio only pre-filters; the word-weighted score decides
            ok = np.nan_to_num(scores["_weighted"], nan=0.0) >= float(tok.get("prefilter", 70))
            core = norm["name_core"].to_numpy(dtype=object)
            weighted = np.array(
                [
                    token_score(core[a], core[b], idf, float(tok.get("token_floor", 85))) if k else 0.0
                    for a, b, k in zip(part["i"].to_numpy(), part["j"].to_numpy(), ok, strict=True)
                ]
            )
            scores["_weighted"] = weighted
            ok = weighted >= float(rules.get("min_score", 90))
        else:
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
            pair_score.setdefault((int(a), int(b)), float(s))
        # a rejected pair blocks a merge only when its names differ (two different people /
        # companies), not when the evidence was merely too thin to match it on its own
        name_floor = float((rules.get("field_floor") or {}).get("name", rules.get("min_score", 90)))
        differ = ~ok & (np.nan_to_num(scores.get("name", scores["_weighted"]), nan=100.0) < name_floor)
        rejected_parts.append((part["i"].to_numpy()[differ], part["j"].to_numpy()[differ]))

    # person pass: name (either order) + a contact point
    person = rules.get("person") or {}
    if person and object_name != "account":
        ppairs, pskipped = _candidate_pairs(
            norm,
            person.get("blocking", []),
            int(person.get("max_block_size", rules.get("max_block_size", 2000))),
        )
        skipped += pskipped
        candidates += len(ppairs)
        for start in range(0, len(ppairs), chunk):
            part = ppairs.iloc[start : start + chunk]
            ok, score, name_ok = _person_scores(norm, part, person)
            matched += int(ok.sum())
            for a, b, sc in zip(part["i"].to_numpy()[ok], part["j"].to_numpy()[ok], score[ok], strict=True):
                key = (int(a), int(b))
                pair_score[key] = max(pair_score.get(key, 0.0), float(sc))
            rejected_parts.append((part["i"].to_numpy()[~name_ok], part["j"].to_numpy()[~name_ok]))
    rejected = (
        _rejected_between_matched(rejected_parts, pair_score) if rules.get("no_chaining", True) else set()
    )

    roots = _cluster(n, pair_score, rejected)
    sizes = np.bincount(roots, minlength=n)
    members = np.nonzero(sizes[roots] > 1)[0]
    if len(members) == 0:
        return DuplicateResult(object_name, empty, n, candidates, matched, skipped, time.monotonic() - t0)
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
    core = norm["name_core"].to_numpy(dtype=object) if object_name == "account" else None
    rows = []
    ids = norm["record_id"].to_numpy()
    for idx, orig in zip(frame["idx"].to_numpy(), frame["orig"].to_numpy(), strict=True):
        if idx == orig:
            rows.append((ids[idx], ids[orig], True, None, None))
        else:
            key = (min(int(idx), int(orig)), max(int(idx), int(orig)))
            rows.append(
                (
                    ids[idx],
                    ids[orig],
                    False,
                    _match_kind(raw, int(idx), int(orig), roles, suffixes, core),
                    pair_score.get(key),
                )
            )
    clusters = pd.DataFrame(rows, columns=["record_id", "cluster_id", "is_original", "match_kind", "score"])
    return DuplicateResult(object_name, clusters, n, candidates, matched, skipped, time.monotonic() - t0)
