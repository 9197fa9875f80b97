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
   a typo still matches. A one-word name that is the initials of another's whole core ("KATS")
   matches it only when both records give the same website domain (``account.tokens.acronyms``).
4. Person pass (lead/contact ``person``): candidates share a postal code, phone, street (with or
   without its number), email or (order-free) name key. With ``fellegi_sunter`` (the shipped
   policy) each field of a pair is exact, close, disagreeing or missing and weighs log2(m/u); the
   names are compared in the order (straight or swapped) that weighs more, and a pair matches when
   no name part disagrees and the sum reaches the threshold, or by the replaced-name rule (one
   name part entirely different, the address and enough other weight agreeing; a replaced given
   name also needs a personal field - the phone, e-mail or a contact's birth date - to agree
   exactly, so a household member is not joined). Without it: the names agree (Jaro-Winkler per
   part) AND a contact point agrees (email, phone or postal address). Either way a shared name
   alone never matches.
5. Clusters: matched pairs are merged best first (union-find), but two groups are never merged
   when a pair across them was compared and rejected for different names (and shares no personal
   field exactly), so one shared name cannot chain different people into one cluster. The
   earliest-created record (ties: lowest id) is the original; every other member is a duplicate
   of it, labelled with the match kind that explains the difference
   (exact, fuzzy:case|punctuation|company_suffix|email_alias|name_order|acronym|typo).

A check whose data has no usable key (every blocking and exact key empty in every record, e.g.
leads without email, company, phone or address) is reported as not evaluable (``unusable``)
instead of "0 duplicates".

Duplicates per 1,000 = duplicate records (cluster members other than the original) per 1,000
records of the object.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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
PERSON_ROLES = ("phone", "street", "city", "postal_code", "state", "country", "birthdate")


def _str(values: Any) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray | pa.Array):
        arr = values if pa.types.is_string(values.type) else values.cast(pa.string())
    else:
        arr = pa.array(values, type=pa.string(), from_pandas=True)
    return pc.fill_null(arr, "")


_UNDECOMPOSED = (
    ("ł", "l"),
    ("Ł", "L"),
    ("ø", "o"),
    ("Ø", "O"),
    ("æ", "ae"),
    ("Æ", "AE"),
    ("œ", "oe"),
    ("Œ", "OE"),
    ("ß", "ss"),
    ("đ", "d"),
    ("Đ", "D"),
    ("ð", "d"),
    ("Ð", "D"),
    ("þ", "th"),
    ("Þ", "TH"),
    ("ı", "i"),
)


def fold(values: Any) -> pa.Array:
    """Lower case, accents removed, surrounding blanks stripped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _str(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    # NFKD and the accent removal change only non-ASCII strings: run them on those alone
    ascii_ = pc.string_is_ascii(arr)
    n_other = len(arr) - int(pc.sum(ascii_).as_py() or 0)
    if n_other:
        other = pc.invert(ascii_)
        folded = pc.replace_substring_regex(pc.utf8_normalize(arr.filter(other), "NFKD"), r"\p{Mn}", "")
        # letters NFKD does not decompose into a base letter and an accent (Polish "ł" in
        # "Małgorzata", Nordic "ø", "æ", German "ß"): their usual ASCII spelling
        for letter, ascii_form in _UNDECOMPOSED:
            folded = pc.replace_substring(folded, letter, ascii_form)
        arr = pc.replace_with_mask(arr, other, folded)
    return pc.utf8_trim_whitespace(pc.utf8_lower(arr))


def strip_punct(arr: pa.Array) -> pa.Array:
    """Punctuation deleted ("Kemu-kopu" -> "kemukopu"), whitespace runs collapsed; unicode letters kept."""
    import pyarrow.compute as pc

    def strip(a: Any) -> Any:
        a = pc.replace_substring_regex(a, r"[^\p{L}\p{N}\s]+", "")
        return pc.replace_substring_regex(a, r"\s+", " ")

    # only a string with a character other than a letter, digit or space, or with two spaces in a
    # row, is changed by the two regexes (most names are not): they run on those alone
    arr = _where(arr, r"[^\p{L}\p{N} ]|  ", strip)
    return pc.utf8_trim_whitespace(arr)


def _where(arr: Any, pattern: str, fn: Any) -> Any:
    """``fn`` (an element-wise string function) applied to the strings matching ``pattern`` only,
    the others kept as they are: the same result as ``fn(arr)`` when ``fn`` leaves every string
    that does not match unchanged, without running it over millions of strings it cannot change."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    mask = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    hits = int(pc.sum(mask).as_py() or 0)
    if hits == 0:
        return arr
    if hits * 4 > len(arr):
        return fn(arr)
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))


def canon_suffixes(arr: pa.Array, suffixes: dict[str, str]) -> pa.Array:
    """Map legal forms to their canonical token (``incorporated`` -> ``inc``; a spelt-out form,
    ``gesellschaft mit beschrankter haftung`` -> ``gmbh``). Variants of more words first, so a
    spelt-out form is mapped whole before the words in it ("limited liability company" -> "llc",
    not "ltd liability co"). One regex finds the names holding any variant as a word; the
    replacements run on those alone."""
    variants = sorted(
        ((v, c) for v, c in suffixes.items() if v != c), key=lambda vc: -len(vc[0].split())
    )  # stable: the policy's order among variants of as many words
    if not variants:
        return arr
    alt = "|".join(sorted({re_escape(v) for v, _ in variants}, key=lambda v: (-len(v), v)))

    def canon(a: Any) -> Any:
        for variant, canonical in variants:
            a = _replace_word(a, variant, rf"(^| ){re_escape(variant)}( |$)", rf"\1{canonical}\2")
        return a

    return _where(arr, rf"(^| )({alt})( |$)", canon)


def _replace_word(arr: Any, word: str, pattern: str, replacement: str) -> Any:
    """``replace_substring_regex`` run only on the strings that contain ``word`` (a plain
    substring test is many times cheaper than the regex over millions of names that cannot
    match); the same result as running it on every string."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not all(ch.isalnum() or ch == " " for ch in word):  # not a plain word: the regex on all
        return pc.replace_substring_regex(arr, pattern, replacement)
    mask = pc.fill_null(pc.match_substring(arr, word), False)
    hits = int(pc.sum(mask).as_py() or 0)
    if hits == 0:
        return arr
    if hits * 4 > len(arr):
        return pc.replace_substring_regex(arr, pattern, replacement)
    replaced = pc.replace_substring_regex(arr.filter(mask), pattern, replacement)
    return pc.replace_with_mask(arr, mask, replaced)


def split_email(values: Any) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(local part without plus-alias, domain, normalised address) of lower-cased emails."""
    import pyarrow.compute as pc

    arr = pc.utf8_lower(pc.utf8_trim_whitespace(_str(values)))
    has_at = pc.match_substring(arr, "@")
    local = pc.if_else(has_at, pc.replace_substring_regex(arr, r"@.*$", ""), arr)
    domain = pc.if_else(has_at, pc.replace_substring_regex(arr, r"^.*@", ""), "")
    local = _where(local, r"\+", lambda a: pc.replace_substring_regex(a, r"\+.*$", ""))
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

    canon = "|".join(sorted({re_escape(v) for v in suffixes.values()}, key=lambda v: (-len(v), v)))
    whole = name
    # the legal forms at the end left out first, so that a form's own words are neither expanded
    # nor dropped as stopwords ("sa de cv" is no "sa cv", "s de rl" no "south rl"); again after,
    # for a form the stopwords uncover ("Acme Ltd and Co")
    name = _where(name, rf" ({canon})$", lambda a: pc.replace_substring_regex(a, rf"( ({canon}))+$", ""))
    if abbreviations:
        # one regex finds the names holding any abbreviation as a word; the replacements run on
        # those alone (single letters such as "n" would otherwise send every name through each)
        alt = "|".join(sorted({re_escape(v) for v in abbreviations}, key=lambda v: (-len(v), v)))

        def expand(a: Any) -> Any:
            for variant, full in abbreviations.items():
                a = _replace_word(a, variant, rf"(^| ){re_escape(variant)}( |$)", rf"\1{full}\2")
            return a

        name = _where(name, rf"(^| )({alt})( |$)", expand)
    if stopwords:
        # one regex finds the names holding a stopword as a word; the replacements run on those
        # alone ("e", "y", "en" are substrings of nearly every name)

        def drop(a: Any) -> Any:
            for word in stopwords:
                for _ in range(2):  # adjacent stopwords share the space between them
                    a = _replace_word(a, word, rf"(^| ){re_escape(word)}( |$)", " ")
            return a

        alt = "|".join(sorted({re_escape(w) for w in stopwords}, key=lambda w: (-len(w), w)))
        name = _where(name, rf"(^| )({alt})( |$)", drop)
    name = pc.utf8_trim_whitespace(pc.replace_substring_regex(name, r"\s+", " "))
    core = pc.utf8_trim_whitespace(pc.replace_substring_regex(name, rf"( ({canon}))+$", ""))
    return pc.if_else(pc.equal(core, ""), pc.if_else(pc.equal(name, ""), whole, name), core)


def given_name_initials(values: Any) -> pa.Array:
    """The initials of a given name of two or more parts ("Jean-Baptiste", "Mary Ann" -> "jb",
    "ma"; '' for a one-part name): what a form that takes only initials ("JB") holds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = fold(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    parts = r"^\W*(\w)\w*[\s\-]+\W*(\w)\w*(?:[\s\-]+\W*(\w)\w*)?\W*$"
    multi = pc.fill_null(pc.match_substring_regex(arr, parts), False)
    out = pa.array([""] * len(arr), pa.string())
    if int(pc.sum(multi).as_py() or 0):
        out = pc.replace_with_mask(
            out, multi, pc.replace_substring_regex(arr.filter(multi), parts, r"\1\2\3")
        )
    return out


# An extension at the end of a phone number: "x 22", "ext. 45", "extension 7", "#204".
PHONE_EXTENSION = r"(?i)\s*(?:ext(?:ension)?\.?|x|#)\s*(\d{1,6})\s*$"


def phone_parts(values: Any, national: bool = False) -> tuple[pa.Array, pa.Array]:
    """(number, extension) of phone numbers: the number compared on its last 9 digits (country
    prefixes and punctuation vary) without its extension ("+44 20 7946 0811 ext 204" and
    "020 7946 0811" are one line), the extension's digits apart ('' = none). ``national``
    (quality.yaml ``fellegi_sunter.national_phone_forms``): a number of 9 digits or fewer
    written with its trunk 0 ("01 555 7720") without that 0 (see :func:`_digits`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = _str(values)
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    # the regexes only on numbers with an "x" or "#" in them (a plain substring test is many
    # times cheaper; the same result)
    maybe = pc.or_(pc.match_substring(raw, "x", ignore_case=True), pc.match_substring(raw, "#"))
    ext = pa.array([""] * len(raw), pa.string())
    if int(pc.sum(maybe).as_py() or 0):
        sub = raw.filter(maybe)
        has_ext = pc.match_substring_regex(sub, PHONE_EXTENSION)
        sub_ext = pc.if_else(has_ext, pc.replace_substring_regex(sub, r"^.*?" + PHONE_EXTENSION, r"\1"), "")
        sub_number = pc.if_else(has_ext, pc.replace_substring_regex(sub, PHONE_EXTENSION, ""), sub)
        raw = pc.replace_with_mask(raw, maybe, sub_number)
        ext = pc.replace_with_mask(ext, maybe, pc.replace_substring_regex(sub_ext, r"\D+", ""))
    return _digits(raw, national), ext


def _digits(values: Any, national: bool = False) -> pa.Array:
    """Phone numbers compared on their last 9 digits (country prefixes and punctuation vary).
    ``national``: a number of 9 digits or fewer starting with one 0 is a national form whose
    trunk 0 stands where the international form has its country code ("01 555 7720" /
    "+234 1 555 7720"); it is kept without the 0 (7 or 8 digits), which the person scorer
    compares with the end of the other number (:func:`_national_phone_forms`). Longer numbers
    are untouched: their last 9 digits never reach a trunk 0 written in front."""
    import pyarrow.compute as pc

    d = pc.replace_substring_regex(_str(values), r"\D+", "")
    n = pc.utf8_length(d)
    tail = pc.utf8_slice_codeunits(d, -9)
    if national:
        trunk = pc.and_(pc.less_equal(n, 9), pc.match_substring_regex(d, r"^0[1-9]"))
        tail = pc.if_else(trunk, pc.utf8_slice_codeunits(d, 1), tail)
    return pc.if_else(pc.less(pc.utf8_length(tail), 7), "", tail)


def person_name_parts(
    first: pa.Array, last: pa.Array, titles: list[str], generations: dict[str, str]
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(given name, surname, generation) of normalised names: a title before the given name
    ("dr orsolya") removed (a middle initial is not: "orsolya k" is as often a name split by a
    slip, "keeli n"; the names are compared without spaces); a generational suffix at
    the end of the surname ("vale jr", "haldane iii") moved to its own column, canonical
    (``generations``: variant -> canonical, "jnr" -> "jr"). A name that is nothing but a title
    keeps it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(first, pa.ChunkedArray):
        first = first.combine_chunks()
    if isinstance(last, pa.ChunkedArray):
        last = last.combine_chunks()
    generation = pa.array([""] * len(last), pa.string())
    # a title or a suffix is a word of its own: the regexes only on names with a space in them
    if titles:
        spaced = pc.match_substring(first, " ")
        if int(pc.sum(spaced).as_py() or 0):
            sub = first.filter(spaced)
            alt = "|".join(sorted({re_escape(t) for t in titles}, key=lambda t: (-len(t), t)))
            stripped = pc.replace_substring_regex(sub, rf"^(({alt}) )+", "")
            first = pc.replace_with_mask(first, spaced, pc.if_else(pc.equal(stripped, ""), sub, stripped))
    spaced = pc.match_substring(last, " ")
    if generations and int(pc.sum(spaced).as_py() or 0):
        sub = last.filter(spaced)
        alt = "|".join(sorted({re_escape(g) for g in generations}, key=lambda g: (-len(g), g)))
        pattern = rf"^(.+) ({alt})$"
        has = pc.match_substring_regex(sub, pattern)
        variant = pc.if_else(has, pc.replace_substring_regex(sub, pattern, r"\2"), "")
        keys = pa.array(list(generations), pa.string())
        canon = pa.array([generations[k] for k in generations], pa.string())
        gen = pc.fill_null(pc.take(canon, pc.index_in(variant, value_set=keys)), "")
        generation = pc.replace_with_mask(generation, spaced, gen)
        last = pc.replace_with_mask(
            last, spaced, pc.if_else(has, pc.replace_substring_regex(sub, pattern, r"\1"), sub)
        )
    return first, last, generation


def _transliterate(arr: pa.Array) -> pa.Array:
    """Names in another script (Cyrillic, Greek, Hangul ...) in Latin letters (text-unidecode:
    "екатерина" -> "ekaterina"); Latin names (ASCII once folded) untouched and not looked at."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from text_unidecode import unidecode

    # not Chinese characters or kana: text-unidecode reads them as Mandarin, so a Japanese name
    # would become another name
    other = pc.and_(
        pc.invert(pc.string_is_ascii(arr)),
        pc.invert(pc.match_substring_regex(arr, r"[\x{3040}-\x{30ff}\x{3400}-\x{9fff}]")),
    )
    if not int(pc.sum(other).as_py() or 0):
        return arr
    latin = pa.array([unidecode(s).lower() for s in arr.filter(other).to_pylist()], pa.string())
    return pc.replace_with_mask(arr, other, latin)


def person_name_forms(first: Any, last: Any, rules: dict[str, Any]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(given name, surname, bracketed alias) of raw person names, folded and without punctuation,
    with the object's name rules (quality.yaml duplicates.objects.<lead|contact>):

    - ``bracketed_given_aliases``: a name in brackets in the given name ("Jae-won (Jason)") is
      the person's other given name: taken out to the alias column ("jason"), the given name is
      the rest ("jaewon");
    - ``transliterate_names``: a name in another script in Latin letters;
    - ``placeholder_surnames``: a surname that is a placeholder ("[not provided]", "n/a", "-")
      is empty, and a given name of two words or more then gives its last word as the surname
      (the whole name typed in First Name: "Marietjie Visagie" -> Marietjie / Visagie);
    - ``patronymic_particles``: a surname starting with one of these words ("binti Abdul Rahman",
      "BT. ABD RAHMAN": Malay bin / binti) is the rest ("abdul rahman"), ``surname_word_forms``
      written out ("abd" -> "abdul")."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ff, lf = fold(first), fold(last)
    n = len(ff)
    alias = pa.array([""] * n, pa.string())
    if rules.get("bracketed_given_aliases"):
        bracket = r"\(([^)]*)\)"
        has = pc.match_substring_regex(ff, bracket)
        if int(pc.sum(has).as_py() or 0):
            sub = ff.filter(has)
            inner = pc.replace_substring_regex(sub, rf"^.*?{bracket}.*$", r"\1")
            rest = pc.utf8_trim_whitespace(pc.replace_substring_regex(sub, bracket, " "))
            alias = pc.replace_with_mask(alias, has, strip_punct(inner))
            ff = pc.replace_with_mask(ff, has, pc.if_else(pc.equal(rest, ""), sub, rest))
    if rules.get("transliterate_names"):
        ff, lf = _transliterate(ff), _transliterate(lf)
    given, surname = strip_punct(ff), strip_punct(lf)
    placeholders = sorted({str(p).strip().lower() for p in rules.get("placeholder_surnames") or []})
    if placeholders:
        held = pc.fill_null(pc.is_in(lf, value_set=pa.array(placeholders, pa.string())), False)
        if int(pc.sum(held).as_py() or 0):
            surname = pc.if_else(held, "", surname)
            moved = pc.and_(held, pc.match_substring(given, " "))
            if int(pc.sum(moved).as_py() or 0):
                sub = given.filter(moved)
                surname = pc.replace_with_mask(surname, moved, pc.replace_substring_regex(sub, r"^.* ", ""))
                given = pc.replace_with_mask(given, moved, pc.replace_substring_regex(sub, r" [^ ]*$", ""))
    particles = sorted({str(p).strip().lower() for p in rules.get("patronymic_particles") or []})
    if particles:
        alt = "|".join(re_escape(p) for p in sorted(particles, key=lambda p: (-len(p), p)))
        surname = pc.replace_substring_regex(surname, rf"^({alt}) (\S)", r"\2")
        for word, full in (rules.get("surname_word_forms") or {}).items():
            w = re_escape(str(word).strip().lower())
            surname = pc.replace_substring_regex(
                surname, rf"(^| ){w}( |$)", rf"\1{str(full).strip().lower()}\2"
            )
    return given, surname, alias


# A birth date on more than this share of the records (and more than COMMON_BIRTH_DATE_MIN of
# them: FEBRL 3 has one person on 12 records) is a placeholder (1900-01-01, a migration
# default), not evidence: it counts as missing.
# Real birth dates spread over ~25,000 days: each is on ~0.004 % of a large org's records.
COMMON_BIRTH_DATE_SHARE = 0.001
COMMON_BIRTH_DATE_MIN = 25


def birth_date_digits(values: Any) -> pa.Array:
    """Birth dates as ``YYYYMMDD`` (the first 8 digits of an ISO date, a timestamp or FEBRL's
    ``19150804``); fewer than 8 digits, or a placeholder date held by many records, = missing ('')."""
    import pyarrow as pa
    import pyarrow.compute as pc

    d = pc.replace_substring_regex(_str(values), r"\D+", "")
    d = pc.if_else(pc.less(pc.utf8_length(d), 8), "", pc.utf8_slice_codeunits(d, 0, 8))
    limit = max(COMMON_BIRTH_DATE_MIN, COMMON_BIRTH_DATE_SHARE * len(d))
    counts = pc.value_counts(d)
    common = counts.field("values").filter(pc.greater(counts.field("counts"), limit))
    if len(common):
        d = pc.if_else(pc.is_in(d, value_set=common), "", d)
    return d.combine_chunks() if isinstance(d, pa.ChunkedArray) else d


def _column(tbl: pa.Table, name: str) -> pa.ChunkedArray | pa.Array:
    """A column of the input as strings with nulls ('' after ``_str``); absent = all null."""
    import pyarrow as pa

    if name in tbl.column_names:
        col = tbl.column(name)
        return col if pa.types.is_string(col.type) else col.cast(pa.string())
    return pa.nulls(tbl.num_rows, pa.string())


class _Columns(dict[str, Any]):
    """Output columns of the normalisation: only those in ``keep`` (None = all) are kept, each as
    one contiguous array, and the intermediates' freed memory goes back to the system after each
    (Arrow's allocator otherwise keeps it: ~600 MB over 2 M leads)."""

    def __init__(self, keep: set[str] | None) -> None:
        super().__init__()
        self.keep = keep

    def wants(self, name: str) -> bool:
        """Whether column ``name`` is kept (a column nobody reads is not computed at all)."""
        return self.keep is None or name in self.keep or name == "record_id"

    def __setitem__(self, name: str, value: Any) -> None:
        import pyarrow as pa

        if self.keep is None or name in self.keep or name == "record_id":
            super().__setitem__(name, value.combine_chunks() if isinstance(value, pa.ChunkedArray) else value)
        _release()


def _one_array(col: Any) -> Any:
    """A column as one array: its only chunk as it is (``combine_chunks`` copies even a single
    chunk: 166 MB for the three compared columns of 2 M leads), else the chunks combined."""
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _release() -> None:
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def release_memory() -> None:
    """Give the memory a finished matcher freed back to the system: Arrow's pool keeps freed
    buffers and glibc's heap the freed Python objects and pair batches (~600 MB after 2 M leads:
    the warehouse's buffer pool, restored after the matcher, would grow on top of it)."""
    import ctypes

    _release()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def normalise_table(
    tbl: pa.Table,
    object_name: str,
    suffixes: dict[str, str],
    rules: dict[str, Any] | None = None,
    keep: set[str] | None = None,
) -> pa.Table:
    """The normalised and blocking-key columns the matcher uses, as an Arrow table (all strings,
    '' = missing; no Python object per value, so 2 M records cost tens of MB per column)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rules = rules or {}
    out = _Columns(keep)
    out["record_id"] = _column(tbl, "record_id")

    def col(name: str) -> Any:
        return _column(tbl, name)

    def first_chars(arr: pa.Array, n: int) -> pa.Array:
        return pc.utf8_slice_codeunits(pc.replace_substring(arr, " ", ""), 0, n)

    if object_name == "account":
        name, core = account_name_core(col("name"), suffixes, rules.get("tokens") or {})
        compact = pc.replace_substring(core, " ", "")
        site = pc.replace_substring_regex(fold(col("website")), r"^(https?://)?(www\.)?", "")
        site = pc.replace_substring_regex(site, r"[/?#].*$", "")
        out["name_norm"] = name
        out["name_core"] = core
        # blocking and exact keys on the core ("... Inc" would put every incorporated company in
        # one block; "Tri-County" and "Tri County" share the compact core)
        out["name_compact"] = compact
        out["name_prefix3"] = pc.utf8_slice_codeunits(compact, 0, 3)
        out["name_suffix3"] = pc.utf8_slice_codeunits(compact, -3)
        if out.wants("name_sorted"):  # the core's words in any order ("superior court delmore county")
            out["name_sorted"] = _py_map(core, _sorted_words)
        out["website_domain"] = site
        out["match_name"] = core
        return _table(out)

    first, last, alias = person_name_forms(col("first_name"), col("last_name"), rules)
    first, last, generation = person_name_parts(
        first,
        last,
        [str(t).strip().lower() for t in rules.get("name_titles") or []],
        {str(k).strip().lower(): str(v).strip().lower() for k, v in (rules.get("generations") or {}).items()},
    )
    company = fold(col("company"))
    if rules.get("transliterate_names"):  # the lead's company too ("Камафлот" -> "kamaflot")
        company = _transliterate(company)
    company = canon_suffixes(strip_punct(company), suffixes)
    local, domain, email = split_email(col("email"))
    roles = [str(r).strip().lower() for r in rules.get("role_mailboxes") or []]
    if roles:  # info@, sales@ ...: shared by several people, so no evidence about any of them
        role = pc.fill_null(pc.is_in(local, value_set=pa.array(roles, pa.string())), False)
        local, email = pc.if_else(role, "", local), pc.if_else(role, "", email)
    dotless = [str(d).strip().lower() for d in rules.get("dotless_email_domains") or []]
    if dotless:  # a.b.smith@gmail.com = absmith@gmail.com: the provider ignores the dots
        local, email = dotless_local_parts(local, domain, email, dotless)
    out["first_norm"] = first
    out["last_norm"] = last
    if rules.get("bracketed_given_aliases"):
        out["first_alias"] = alias
    out["company_norm"] = company
    out["email_norm"] = email
    out["email_domain"] = domain
    if rules.get("numbered_mailboxes"):  # alexei.moravec@ / alexei.moravec2@: the number apart
        out["email_number"] = pc.if_else(
            pc.equal(email, ""), "", pc.replace_substring_regex(local, r"\D", "")
        )
        out["email_base"] = pc.if_else(
            pc.equal(email, ""),
            "",
            pc.binary_join_element_wise(pc.replace_substring_regex(local, r"\d", ""), domain, "@"),
        )
    out["last_initials"] = first_chars(last, 2)
    if out.wants("first_initials"):
        out["first_initials"] = given_name_initials(col("first_name"))
    out["first_initial"] = first_chars(first, 1)
    if out.wants("company_token"):
        out["company_token"] = pc.replace_substring_regex(company, r" .*$", "")
    if out.wants("email_local4"):
        out["email_local4"] = pc.utf8_slice_codeunits(local, 0, 4)
    out["match_name"] = pc.utf8_trim_whitespace(pc.binary_join_element_wise(first, last, " "))
    out["name_generation"] = generation
    particles = sorted({str(p).strip().lower() for p in rules.get("patronymic_particles") or []})
    if particles:  # "binti hassan": a father's name, which no marriage changes
        alt = "|".join(re_escape(p) for p in sorted(particles, key=lambda p: (-len(p), p)))
        raw_last = strip_punct(fold(col("last_name")))
        out["name_patronymic"] = pc.if_else(
            pc.fill_null(pc.match_substring_regex(raw_last, rf"^({alt}) \S"), False), "p", ""
        )
    # the company without its legal form ("fjordlight as" / "fjordlight"), as the person pass
    # compares it
    # (only names with a space can end in a legal form: the regexes run on those alone)
    company = company.combine_chunks() if isinstance(company, pa.ChunkedArray) else company
    spaced = pc.match_substring(company, " ")
    abbreviations = {str(k): str(v) for k, v in (rules.get("company_abbreviations") or {}).items()}
    company_core_ = (
        pc.replace_with_mask(
            company,
            spaced,
            company_core(
                company.filter(spaced),
                suffixes,
                [str(w) for w in rules.get("company_stopwords") or []],
                abbreviations,
            ),
        )
        if int(pc.sum(spaced).as_py() or 0)
        else company
    )
    out["company_core"] = company_core_
    if out.wants("company_word"):  # "kestrelby software" / "kestrelby": one blocking key
        out["company_word"] = pc.replace_substring_regex(company_core_, r" .*$", "")
    del company_core_
    if out.wants("last_parts"):
        out["last_parts"] = surname_parts(col("last_name"))
    # person pass: contact points and order-free name keys
    out["phone_norm"], out["phone_ext"] = phone_parts(col("phone"), _national_phones(rules))
    if out.wants("phone_tail7"):  # "9555 0612" / "+65 9555 0612": one blocking key
        pn = out["phone_norm"]
        out["phone_tail7"] = pc.if_else(
            pc.greater_equal(pc.utf8_length(pn), 7), pc.utf8_slice_codeunits(pn, -7), ""
        )
    if out.wants("last_compact"):  # "oyelaran brandt" / "oyelaran-brandt": one blocking key
        out["last_compact"] = pc.replace_substring(last, " ", "")
    street = strip_punct(fold(col("street")))
    out["street_norm"] = street
    out["street_number"] = pc.replace_substring_regex(
        pc.replace_substring_regex(street, r"^\D*", ""), r"\D.*$", ""
    )
    # the street without its numbers ("12a lorimo street" -> "lorimo street") and its first word:
    # blocking keys that still meet when the house number or the postal code has a typo
    street_name = pc.utf8_trim_whitespace(
        pc.replace_substring_regex(pc.replace_substring_regex(street, r"\S*\d\S*", ""), r"\s+", " ")
    )
    out["street_name"] = street_name
    out["street_word"] = pc.replace_substring_regex(street_name, r" .*$", "")
    out["city_norm"] = strip_punct(fold(col("city")))
    out["postal_norm"] = pc.replace_substring(strip_punct(fold(col("postal_code"))), " ", "")
    out["state_norm"] = strip_punct(fold(col("state")))
    out["birthdate_norm"] = birth_date_digits(col("birthdate"))
    first_le = pc.less_equal(first, last)
    lo = pc.if_else(first_le, first, last)
    hi = pc.if_else(first_le, last, first)
    both = pc.and_(pc.not_equal(first, ""), pc.not_equal(last, ""))
    out["name_sorted"] = pc.if_else(both, pc.binary_join_element_wise(lo, hi, " "), "")
    if out.wants("name_any3"):
        f3, l3 = pc.utf8_slice_codeunits(first, 0, 3), pc.utf8_slice_codeunits(last, 0, 3)
        f3_le = pc.less_equal(f3, l3)
        out["name_any3"] = pc.if_else(
            both,
            pc.binary_join_element_wise(pc.if_else(f3_le, f3, l3), pc.if_else(f3_le, l3, f3), "|"),
            pc.if_else(pc.equal(f3, ""), l3, f3),
        )
    return _table(out)


def account_name_core(
    names: Any, suffixes: dict[str, str], tokens: dict[str, Any], word_breaks: bool = False
) -> tuple[pa.Array, pa.Array]:
    """(normalised name, core) of account names (quality.yaml ``account.tokens``: stopwords and
    abbreviations); ``word_breaks``: a hyphen or slash separates words instead of being deleted
    ("Kellworth-Ashby" is two words: the initials an acronym is made of)."""
    import pyarrow.compute as pc

    folded = fold(names)
    folded = _account_written_forms(folded, suffixes, tokens)
    folded = _hyphenated_abbreviations(folded, tokens)
    if word_breaks:
        folded = _where(folded, r"[-/]", lambda a: pc.replace_substring_regex(a, r"[-/]", " "))
    name = canon_suffixes(strip_punct(folded), suffixes)
    name = _number_words(name, tokens)
    core = company_core(
        name,
        suffixes,
        list(tokens.get("stopwords", [])),
        {str(k): str(v) for k, v in (tokens.get("abbreviations") or {}).items()},
    )
    leading = sorted(
        {re_escape(str(f)) for f in tokens.get("leading_legal_forms") or []}, key=lambda f: (-len(f), f)
    )
    if leading:  # "kk aozora robotics" (Kabushiki Kaisha written first) -> "aozora robotics"
        alt = "|".join(leading)
        core = _where(core, rf"^({alt}) \S", lambda a: pc.replace_substring_regex(a, rf"^({alt}) ", ""))
    return name, core


def _account_written_forms(folded: Any, suffixes: dict[str, str], tokens: dict[str, Any]) -> Any:
    """Folded account names as the company's one name (issue 15, round-7 accounts): Greek and
    Cyrillic transliterated to Latin (``tokens.transliterate_scripts``), "+" as "&"
    (``tokens.plus_as_and``), a CRM marker after a separator left out ("- do not use
    (duplicate)", ``tokens.crm_markers``), and a name holding a second name of the company (a
    trading, former or operating name: :func:`split_trade_name`) cut to its first. Each step runs
    on the names it can change only."""
    import pyarrow.compute as pc

    scripts = [str(x) for x in tokens.get("transliterate_scripts") or []]
    if scripts:
        folded = _where(folded, "|".join(rf"\p{{{x}}}" for x in scripts), _transliterated)
    if tokens.get("plus_as_and"):
        folded = _where(folded, r"\+", lambda a: pc.replace_substring(a, "+", " "))
    # "&" between words written without spaces ("gmbh&co kg") is a word break as it is with them
    folded = _where(folded, r"\w&\w", lambda a: pc.replace_substring_regex(a, r"(\w)&(\w)", r"\1 & \2"))
    markers = [str(m) for m in tokens.get("crm_markers") or []]
    if markers:
        alt = "|".join(re_escape(m) for m in sorted(markers, key=len, reverse=True))
        pattern = rf"(\s*[-:(\[*]+\s*({alt})[\s)\]*.!]*)+$"
        folded = _where(
            folded, pattern, lambda a: pc.utf8_trim_whitespace(pc.replace_substring_regex(a, pattern, ""))
        )
    splitter = _trade_name_splitter(suffixes, tokens)
    if splitter is not None:
        folded = _where(folded, splitter.pattern, lambda a: _py_map(a, lambda v: splitter(v)[0]))
    inverted = [str(w) for w in tokens.get("inverted_prefixes") or []]
    if inverted:  # "pinecrest falls, city of" -> "city of pinecrest falls"
        alt = "|".join(re_escape(w) for w in sorted(inverted, key=len, reverse=True))
        pattern = rf"^(.+?)\s*,\s*({alt})\.?$"
        folded = _where(folded, pattern, lambda a: pc.replace_substring_regex(a, pattern, r"\2 \1"))
    elisions = {str(k): str(v) for k, v in (tokens.get("elisions") or {}).items()}
    if elisions:  # "commune d'hervilly" -> "commune de hervilly" (folded: no accents left)
        pattern = rf"(^|[\s(-])({'|'.join(sorted(elisions))})['’]([aeiouh])"
        folded = _where(folded, pattern, lambda a: _py_map(a, lambda v: _elided(v, pattern, elisions)))
    ids = tokens.get("identifier_brackets") or {}
    if ids.get("words") or ids.get("exchanges"):  # "sandmere community bank (fdic #33871)" -> without it
        pattern = _identifier_bracket(ids)
        folded = _where(folded, pattern, lambda a: pc.replace_substring_regex(a, pattern, ""))
    if tokens.get("bracketed_initials"):  # "duskwater municipal utilities (dmu)" -> without "(dmu)"
        folded = _where(folded, r"\(\s*[a-z&.]{2,}\s*\)\s*$", lambda a: _py_map(a, _without_own_initials))
        # and a first word that is them: "swt schwarzwald waegetechnik gmbh" -> without "swt"
        forms = frozenset(w for k in suffixes for w in str(k).split())
        folded = _where(
            folded, r"^[a-z]{2,5} \S+ \S", lambda a: _py_map(a, lambda v: _without_leading_initials(v, forms))
        )
    return folded


def _identifier_bracket(ids: dict[str, Any]) -> str:
    """An RE2 pattern of a last bracket holding a register's name and number ("(fdic #33871)",
    "(charter no. 1234)"; a bare number may be a branch's: "(#12)" stays) or a listing ("(nasdaq: qlvx)"): quality.yaml ``tokens.identifier_brackets``."""
    words = "|".join(re_escape(str(w)) for w in sorted(ids.get("words") or [], key=len, reverse=True))
    exchanges = "|".join(re_escape(str(w)) for w in sorted(ids.get("exchanges") or [], key=len, reverse=True))
    parts = []
    if words:
        parts.append(rf"(?:(?:{words})\.?\s*)+(?:#|no\.?|nr\.?)?\s*\d[\d\s/-]*")
    if exchanges:
        parts.append(rf"(?:{exchanges})\s*:\s*[a-z][a-z.]{{0,6}}")
    return rf"\s*\(\s*(?:{'|'.join(parts)})\s*\)\s*$"


def _elided(name: str, pattern: str, elisions: dict[str, str]) -> str:
    """``name`` with each elided word ("d'", "l'") written out ("de ", "la ")."""
    import re

    return re.sub(pattern, lambda m: f"{m.group(1)}{elisions[m.group(2)]} {m.group(3)}", name)


def _without_leading_initials(name: str, forms: frozenset[str]) -> str:
    """A name without a first word that is the initials of the words after it, legal forms and
    "and" left out ("swt schwarzwald waegetechnik gmbh" -> "schwarzwald waegetechnik gmbh"); any
    other name as it is."""
    head, _, rest = name.partition(" ")
    words = [w for w in rest.replace("-", " ").split() if w not in forms and w not in {"&", "and", "und"}]
    words = [w for w in ("".join(ch for ch in w if ch.isalnum()) for w in words) if w]
    if 2 <= len(words) == len(head) and head == "".join(w[0] for w in words):
        return rest
    return name


def _without_own_initials(name: str) -> str:
    """A name without a last bracket that holds the initials of the words before it ("duskwater
    municipal utilities (dmu)"); any other name as it is ("acme (uk)")."""
    import re

    m = re.match(r"^(.*?)\s*\(\s*([a-z&.]+)\s*\)\s*$", name)
    if not m:
        return name
    words = [w for w in re.split(r"[\s\-/]+", re.sub(r"[^\w\s\-/&]", "", m.group(1))) if w and w != "&"]
    letters = m.group(2).replace(".", "").replace("&", "")
    initials = "".join(w[0] for w in words)
    skip = "".join(w[0] for w in words if w not in {"of", "and", "the", "de", "la", "für", "fur"})
    return m.group(1) if len(letters) >= 2 and letters in (initials, skip) else name


def _py_map(arr: Any, fn: Any) -> Any:
    """``fn`` applied to each string of a (small) Arrow string array, in Python."""
    import pyarrow as pa

    return pa.array([fn(v) for v in arr.to_pylist()], type=pa.string())


def _transliterated(arr: Any) -> Any:
    """Greek / Cyrillic letters as Latin ones ("родопа" -> "rodopa"; text-unidecode), lower case."""
    from text_unidecode import unidecode

    return _py_map(arr, lambda v: unidecode(v).lower())


class _TradeNameSplitter:
    """(first name, second name) of a folded account name holding two names of one company: a
    trading-name marker between them ("copperline brewing company d/b/a old mill taproom"), a
    former-name marker ("nordlicht analytics gmbh (vormals datenhaus nord gmbh)"), or a numbered
    company's operating name in brackets after its legal form ("2785510 ontario inc. (maple ridge
    roofing)"; another name's brackets hold a place: "acme inc. (canada)" is left whole); ("name", "")
    for any other. ``pattern``: an RE2 regex every name it splits matches (a cheap pre-filter)."""

    def __init__(self, trading: list[str], former: list[str], forms: set[str]) -> None:
        import re

        alt = "|".join(re_escape(m) for m in sorted({*trading, *former}, key=len, reverse=True))
        self.former = set(former)
        self.forms = forms
        self.pattern = rf"(^|\s|\()({alt})(\s|$)|\)\s*$"
        self._inline = re.compile(rf"^(.+?)\s+({alt})\s+(.+)$")
        self._bracket = re.compile(rf"^(.+?)\s*\(\s*(?:({alt})\s+)?([^()]+?)\s*\)\s*$")
        self._punct = re.compile(r"[^\w\s]+")

    def __call__(self, name: str) -> tuple[str, str, bool]:
        """(first name, second name or "", whether the second is a former name)."""
        m = self._bracket.match(name)
        if m:
            words = self._punct.sub("", m.group(1)).split()
            # without a marker only a numbered company's ("2785510 ontario inc."): it has no name
            # of its own, while another company's brackets hold a place (a branch, a subsidiary)
            if m.group(2) or (len(words) > 1 and words[0].isdigit() and words[-1] in self.forms):
                return m.group(1).strip(), m.group(3).strip(), m.group(2) in self.former
            # a registered name with its legal form in brackets after a trading name ("kiesel &
            # kork (weinhandel brandt e.k.)"): the company's second name
            inner = self._punct.sub("", m.group(3)).split()
            if len(inner) > 2 and inner[-1] in self.forms and inner[:-1] != words[: len(inner) - 1]:
                return m.group(1).strip(), m.group(3).strip(), False
        m = self._inline.match(name)
        if m:
            return m.group(1).strip(), m.group(3).strip(), m.group(2) in self.former
        return name, "", False


@functools.lru_cache(maxsize=8)
def _cached_splitter(
    trading: tuple[str, ...], former: tuple[str, ...], forms: frozenset[str]
) -> _TradeNameSplitter:
    return _TradeNameSplitter(list(trading), list(former), set(forms))


def _trade_name_splitter(suffixes: dict[str, str], tokens: dict[str, Any]) -> _TradeNameSplitter | None:
    """The splitter of ``tokens.trading_name_markers`` / ``former_name_markers`` (None: neither)."""
    trading = tuple(str(m) for m in tokens.get("trading_name_markers") or [])
    former = tuple(str(m) for m in tokens.get("former_name_markers") or [])
    if not trading and not former:
        return None
    forms = frozenset(w for k in suffixes for w in [str(k).split()[-1]])
    return _cached_splitter(trading, former, forms)


def split_trade_name(name: str, suffixes: dict[str, str], tokens: dict[str, Any]) -> tuple[str, str, bool]:
    """(first name, second name, former) of one folded account name (:class:`_TradeNameSplitter`)."""
    splitter = _trade_name_splitter(suffixes, tokens)
    return splitter(name) if splitter is not None else (name, "", False)


def _number_words(name: Any, tokens: dict[str, Any]) -> Any:
    """Normalised account names with number words as digits (``tokens.number_words``: "twenty
    twenty optometry" -> "20 20 optometry", whose compact key is that of "20/20 Optometry")."""
    table = {str(k): str(v) for k, v in (tokens.get("number_words") or {}).items()}
    if not table:
        return name
    alt = "|".join(sorted((re_escape(w) for w in table), key=lambda w: (-len(w), w)))

    def expand(a: Any) -> Any:
        for word, digits in table.items():
            for _ in range(2):  # adjacent number words share the space between them
                a = _replace_word(a, word, rf"(^| ){re_escape(word)}( |$)", rf"\1{digits}\2")
        return a

    return _where(name, rf"(^| )({alt})( |$)", expand)


def _hyphenated_abbreviations(folded: Any, tokens: dict[str, Any]) -> Any:
    """Folded account names with an abbreviation of ``tokens.hyphenated_abbreviations`` that a
    hyphen joins to the next word written out ("st-aubin" -> "saint-aubin": the hyphen is then
    deleted as punctuation, as in "Saint-Aubin"); the abbreviation table is ``tokens.abbreviations``."""
    import pyarrow.compute as pc

    table = {str(k): str(v) for k, v in (tokens.get("abbreviations") or {}).items()}
    words = sorted({str(w) for w in tokens.get("hyphenated_abbreviations") or [] if str(w) in table})
    if not words:
        return folded
    alt = "|".join(re_escape(w) for w in words)

    def expand(a: Any) -> Any:
        for w in words:
            a = pc.replace_substring_regex(a, rf"(^|[ (]){re_escape(w)}-", rf"\1{table[w]}-")
        return a

    return _where(folded, rf"(^|[ (])({alt})-", expand)


def _table(columns: dict[str, Any]) -> pa.Table:
    import pyarrow as pa

    return pa.table(dict(columns))


def normalise(
    df: pd.DataFrame | pa.Table,
    object_name: str,
    suffixes: dict[str, str],
    rules: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The normalised and blocking-key columns as a DataFrame (see :func:`normalise_table`)."""
    return normalise_table(_as_table(df), object_name, suffixes, rules).to_pandas()


def _as_table(df: pd.DataFrame | pa.Table) -> pa.Table:
    """The matcher's input as an Arrow table (a DataFrame is converted once, column by column)."""
    import pyarrow as pa

    if isinstance(df, pa.Table):
        return df
    cols = {}
    for name in df.columns:
        s = df[name]
        if name == "created_at":
            continue  # read from the DataFrame itself for the clustered records (_created)
        if name == "record_id":
            cols[name] = pa.array(s.astype(str).to_numpy(dtype=object), pa.string())
        else:
            cols[name] = _str_nullable(s)
    return pa.table(cols) if cols else pa.table({"record_id": pa.array([], pa.string())})


def _str_nullable(values: Any) -> pa.Array:
    import pyarrow as pa

    return pa.array(values, type=pa.string(), from_pandas=True)


class _UnionFind:
    """Union-find over the records some pair touches (a dict, not a list of every record); the
    root of a set is its lowest record."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
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
    # blocks over max_block_size were not compared: the records they hold and one note per key
    skipped_records: int = 0
    skipped_notes: list[str] = field(default_factory=list)

    @property
    def not_evaluated(self) -> str | None:
        """What was not compared (blocks over max_block_size), or None when every block was."""
        if not self.skipped_blocks:
            return None
        return (
            f"{self.skipped_blocks} blocking groups over max_block_size not compared "
            f"({self.skipped_records} records in them): " + "; ".join(self.skipped_notes)
        )

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


_ROLE_COLS = {"name": "match_name", "email": "email_norm", "company": "company_norm"}


def _take(col: Any, idx: Any) -> Any:
    """The strings of ``col`` (an Arrow array of every record) at ``idx``, as an object array:
    Python strings are made for one batch of pairs only."""
    return col.take(idx).to_numpy(zero_copy_only=False)


def _weighted_scores(columns: dict[str, Any], i: Any, j: Any, weights: dict[str, float]) -> dict[str, Any]:
    """Per-field rapidfuzz ratios (NaN where either side is empty) and the weighted score."""
    import numpy as np
    from rapidfuzz import fuzz, process

    total = np.zeros(len(i))
    weight_sum = np.zeros(len(i))
    per_field: dict[str, Any] = {}
    for role, w in weights.items():
        col = columns[role]
        a, b = _take(col, i), _take(col, j)
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


# What str.split() splits on besides the space (a name holding one is counted in Python).
_OTHER_WHITESPACE = (
    r"[\t\n\x0b\x0c\r\x1c-\x1f\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)


def _token_weights(cores: Any) -> dict[str, float]:
    """Inverse document frequency of each word among the object's names: log(1 + N / df).
    ``cores``: a list of names or an Arrow string array (counted in Arrow: 511 k account names
    took 2 CPU-s as Python sets; the same figures, checked against the Python count)."""
    import math
    from collections import Counter

    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(cores, pa.ChunkedArray | pa.Array):
        arr = pc.drop_null(cores.combine_chunks() if isinstance(cores, pa.ChunkedArray) else cores)
        arr = arr.filter(pc.not_equal(arr, ""))
        if not pc.any(pc.match_substring_regex(arr, _OTHER_WHITESPACE)).as_py():
            # only spaces separate words: str.split() is a split on " " without the empty words
            words = pc.split_pattern(arr, " ")
            table = pa.table({"doc": pc.list_parent_indices(words), "word": pc.list_flatten(words)})
            table = table.filter(pc.not_equal(table["word"], ""))
            per_word = (
                table.group_by(["doc", "word"]).aggregate([]).group_by("word").aggregate([("doc", "count")])
            )
            n = max(len(arr), 1)
            counts = per_word["doc_count"].to_pylist()
            idf = {k: math.log(1.0 + n / k) for k in set(counts)}  # few distinct counts
            return dict(zip(per_word["word"].to_pylist(), map(idf.__getitem__, counts), strict=True))
        cores = arr.to_pylist()
    docs = [set(c.split()) for c in cores if c]
    df = Counter(t for d in docs for t in d)
    n = max(len(docs), 1)
    return {t: math.log(1.0 + n / k) for t, k in df.items()}


def token_score(
    a: str, b: str, weights: dict[str, float], token_floor: float, default: float | None = None
) -> float:
    """Weighted word agreement of two names (0-100): every word of each name is paired with its
    most similar word of the other (rapidfuzz ratio; below ``token_floor`` counts 0) and weighs
    its inverse document frequency, so a distinctive word decides and common words barely count.
    """
    from rapidfuzz import fuzz

    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return 0.0
    if default is None:  # an unknown word weighs like the rarest one (pass it in: it is a max over all)
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


# Fellegi-Sunter fields of the person pass: the normalised column each is compared on. Names and
# cities by Jaro-Winkler, the others by rapidfuzz's ratio (the street: the best of the ratio, the
# ratio without spaces and the token-set ratio), all on 0-1.
FS_COLUMNS = {
    "first_name": "first_norm",
    "last_name": "last_norm",
    "street": "street_norm",
    "city": "city_norm",
    "postal_code": "postal_norm",
    "state": "state_norm",
    "phone": "phone_norm",
    "email": "email_norm",
    "company": "company_core",
    "birth_date": "birthdate_norm",
}
_FS_JARO = {"first_name", "last_name", "city"}
MISSING, DISAGREE, CLOSE, EXACT = 0, 1, 2, 3


def fs_weights(spec: dict[str, Any]) -> dict[int, float]:
    """log2(m/u) of each agreement level of one field (missing: 0); ``spec``: quality.yaml
    ``fellegi_sunter.fields.<field>`` (m and u of the exact and close levels; disagree = the rest)."""
    import math

    m, u = spec["m"], spec["u"]
    has_close = spec.get("close") is not None
    m_close = float(m.get("close") or 0.0) if has_close else 0.0
    u_close = float(u.get("close") or 0.0) if has_close else 0.0
    out = {MISSING: 0.0, EXACT: math.log2(float(m["exact"]) / float(u["exact"]))}
    out[DISAGREE] = math.log2((1.0 - float(m["exact"]) - m_close) / (1.0 - float(u["exact"]) - u_close))
    out[CLOSE] = math.log2(m_close / u_close) if has_close else out[DISAGREE]  # no close level: unused
    return out


def _fs_levels(role: str, a: Any, b: Any, close: float | None) -> Any:
    """Agreement level per pair (MISSING / DISAGREE / CLOSE / EXACT) of one field's two sides."""
    import numpy as np

    present = (a != "") & (b != "")
    levels = np.where(present, DISAGREE, MISSING).astype(np.int8)
    if not present.any():
        return levels
    exact = present & (a == b)
    if close is not None:
        if role in ("first_name", "last_name"):  # a name split or run together ("ale c", "maryann")
            sim = _jw([x.replace(" ", "") for x in a], [x.replace(" ", "") for x in b])
        elif role in _FS_JARO:
            sim = _jw(a, b)
        elif role == "birth_date":
            sim = _birth_date_similarity(a, b)
        else:
            sim = _text_similarity(role, a, b) / 100.0
        levels[present & (sim >= close)] = CLOSE
    levels[exact] = EXACT
    return levels


@functools.cache
def _nickname_keys(extra: tuple[tuple[str, str], ...] = ()) -> Any:
    """Every "name|nickname" and "nickname|name" of the ``nicknames`` package's hand-curated
    English table (``has_nickname`` rows only: two nicknames of one name, such as Ron and Erin of
    Aaron, are not taken as one person's) and of ``extra`` (quality.yaml
    ``fellegi_sunter.nickname_supplement``: name -> short form pairs the table lacks)."""
    import pyarrow as pa
    from nicknames import name_triplets

    keys = set()
    for t in name_triplets():
        if t.relationship == "has_nickname":
            keys.add(f"{t.name1}|{t.name2}")
            keys.add(f"{t.name2}|{t.name1}")
    for name, nickname in extra:
        keys.add(f"{name}|{nickname}")
        keys.add(f"{nickname}|{name}")
    return pa.array(sorted(keys), pa.string())


def nickname_supplement(fs: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """quality.yaml ``fellegi_sunter.nickname_supplement`` ({name: [short form, ...]}) as sorted
    (name, short form) pairs, case-folded like the compared names."""
    sup = fs.get("nickname_supplement") or {}
    pairs = {(str(k).strip().lower(), str(v).strip().lower()) for k, vs in sup.items() for v in vs or []}
    pairs |= _given_name_variant_pairs(fs)
    # a two-part given name ("maria jose") also without its space, as same_given_name compares it
    pairs |= {(k.replace(" ", ""), v) for k, v in pairs if " " in k}
    return tuple(sorted(pairs))


def _given_name_variant_pairs(fs: dict[str, Any]) -> set[tuple[str, str]]:
    """quality.yaml ``fellegi_sunter.given_name_variants`` (groups of spellings of one given name:
    Youssef / Yusuf, Mohammed / Muhammad) as (name, variant) pairs, every two of a group,
    case-folded: compared like a name and its nickname."""
    out: set[tuple[str, str]] = set()
    for group in fs.get("given_name_variants") or []:
        names = sorted({str(x).strip().lower() for x in group})
        out |= set(itertools.combinations(names, 2))
    return out


def _nickname_pairs(a: Any, b: Any, extra: tuple[tuple[str, str], ...] = ()) -> Any:
    """Whether each pair's two given names are a name and its nickname (compared in Arrow)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    key = pc.binary_join_element_wise(pa.array(a, pa.string()), pa.array(b, pa.string()), "|")
    return np.asarray(
        pc.is_in(key, value_set=_nickname_keys(extra)).to_numpy(zero_copy_only=False), dtype=bool
    )


def same_given_name(a: str, b: str, extra: tuple[tuple[str, str], ...] = (), compound: bool = False) -> bool:
    """Whether two normalised given names can be one person's: equal, a name and its nickname,
    one the other's initial, or one slip apart (one letter changed, added or dropped, or two
    adjacent letters swapped: Damerau-Levenshtein distance 1); ``compound``
    (``fellegi_sunter.compound_given_names``): also a two-word given name and a short form of
    one of its words (Maria Eduarda / Duda)."""
    from rapidfuzz.distance import DamerauLevenshtein

    if compound and _compound_given_short_form(a, b, _nickname_key_set(extra)):
        return True
    a, b = a.replace(" ", ""), b.replace(" ", "")
    if a == b or not a or not b:
        return True
    if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
        return True
    if DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1:
        return True
    return bool(_nickname_pairs([a], [b], extra)[0])


# A phone line held by more given names than this at one company is an office line without
# comparing them pair by pair (a switchboard).
OFFICE_LINE_NAMES = 8


def office_line_keys(
    norm: pa.Table, extra: tuple[tuple[str, str], ...] = (), phones: Any = None, compound: bool = False
) -> set[str]:
    """The office lines ("number|extension|company core") among the records' phone lines.

    A line is an office line when records of one company (``company_core``) on it carry two given
    names that cannot be one person's (:func:`same_given_name`; a record's names are also tried
    swapped, as a badge scan swaps them): colleagues on a switchboard, siblings on a family
    firm's phone. Such a number is no evidence that two records with different given names are
    one person (``corroboration.office_lines``). ``phones``: only the lines of these numbers are
    looked at (the matcher asks for the few numbers that would back a different name); None =
    every number on two records or more."""
    import pyarrow as pa
    import pyarrow.compute as pc

    phone = norm.column("phone_norm")
    if phones is None:
        counts = pc.value_counts(phone)
        wanted = counts.field("values").filter(
            pc.and_(pc.greater(counts.field("counts"), 1), pc.not_equal(counts.field("values"), ""))
        )
    else:
        wanted = pa.array(sorted(p for p in phones if p), pa.string())
    if len(wanted) == 0:
        return set()
    keep = pc.and_(
        pc.and_(pc.is_in(phone, value_set=wanted), pc.not_equal(norm.column("company_core"), "")),
        pc.not_equal(norm.column("first_norm"), ""),
    )
    idx = pc.indices_nonzero(keep)
    sub = pa.table(
        {
            "line": _line_keys(norm, idx),
            "first": norm.column("first_norm").take(idx),
            "last": norm.column("last_norm").take(idx),
        }
    )
    groups = sub.group_by("line").aggregate([("first", "count_distinct")])
    shared = groups.filter(pc.greater(groups.column("first_count_distinct"), 1))
    if shared.num_rows == 0:
        return set()
    cand = sub.filter(pc.is_in(sub.column("line"), value_set=shared.column("line")))
    names = cand.group_by("line").aggregate([("first", "list"), ("last", "list")])
    office: set[str] = set()
    for line, firsts, lasts in zip(
        names.column("line").to_pylist(),
        names.column("first_list").to_pylist(),
        names.column("last_list").to_pylist(),
        strict=True,
    ):
        people = sorted(set(zip(firsts, lasts, strict=True)))
        if len({f for f, _ in people}) > OFFICE_LINE_NAMES:
            office.add(line)
            continue
        for (f1, l1), (f2, l2) in itertools.combinations(people, 2):
            if not (
                same_given_name(f1, f2, extra, compound)
                or (l1 == f2 and same_given_name(f1, l2, extra, compound))
            ):
                office.add(line)
                break
    return office


def _line_keys(norm: pa.Table, idx: Any) -> pa.Array:
    """ "number|extension|company core" of the records at ``idx``: one company's phone line."""
    import pyarrow as pa
    import pyarrow.compute as pc

    idx = idx if isinstance(idx, pa.Array) else pa.array(idx, pa.int64())
    return pc.binary_join_element_wise(
        norm.column("phone_norm").take(idx),
        norm.column("phone_ext").take(idx),
        norm.column("company_core").take(idx),
        "|",
    )


def _birth_date_similarity(a: Any, b: Any) -> Any:
    """Similarity (0-1) of two ``YYYYMMDD`` birth dates: 1 - edits / 8, an edit being one digit
    changed, two adjacent digits transposed, or day and month swapped; so 0.875 = one slip
    (quality.yaml ``birth_date.close``). Vectorised over the digits (one row of 8 code points per
    date; a missing date is a row of zeros)."""
    import numpy as np

    da = np.asarray(a, dtype="<U8").view(np.uint32).reshape(-1, 8)
    db = np.asarray(b, dtype="<U8").view(np.uint32).reshape(-1, 8)
    diff = da != db
    edits = diff.sum(axis=1).astype(np.float64)
    crossed = (da[:, :-1] == db[:, 1:]) & (da[:, 1:] == db[:, :-1]) & diff[:, :-1] & diff[:, 1:]
    one_slip = (edits == 2) & crossed.any(axis=1)
    one_slip |= (da[:, [0, 1, 2, 3, 6, 7, 4, 5]] == db).all(axis=1) & (edits > 0)
    edits[one_slip] = 1.0
    return 1.0 - edits / 8.0


def _text_similarity(role: str, a: Any, b: Any) -> Any:
    """rapidfuzz ratio (0-100, float64) of each pair of values; a street also scores its words run
    together or split ("whistlerplace") and a missing part (token set), the best of the three."""
    import numpy as np
    from rapidfuzz import fuzz, process

    sim = process.cpdist(list(a), list(b), scorer=fuzz.ratio, workers=-1).astype(np.float64)
    if role == "street":
        compact = process.cpdist(
            [x.replace(" ", "") for x in a], [x.replace(" ", "") for x in b], scorer=fuzz.ratio, workers=-1
        )
        tokens = process.cpdist(list(a), list(b), scorer=fuzz.token_set_ratio, workers=-1)
        sim = np.maximum.reduce([sim, compact, tokens]).astype(np.float64)
    return sim


def fs_person_scores(norm: pa.Table, i: Any, j: Any, fs: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Fellegi-Sunter scoring of candidate pairs (i, j): (matched mask, weight sum, names
    compatible, replaced-name matches).

    Each field's agreement level weighs log2(m/u) (quality.yaml ``person.fellegi_sunter``); the
    names are compared in the order (straight or first/last swapped) that weighs more. A pair
    matches when its names agree (no part disagrees, one at least agrees) and the weight sum
    reaches ``threshold``; or by the replaced-name rule: one name part entirely different (maiden
    name, nickname), the other agreeing, the address agreeing (street and postal code or city)
    and the other fields weighing ``replaced_name.min_weight`` or more. A replaced *given* name
    also needs one of ``replaced_name.given_name_needs`` (phone, e-mail, birth date) to agree
    exactly: the same address and surname with another given name and nothing personal in common
    is another member of the household, not a duplicate. Names are incompatible (the pair keeps
    two clusters apart) when the given names disagree, or the surnames disagree with no given
    name agreeing, and no field of ``given_name_needs`` agrees exactly.

    ``corroboration`` (see :func:`_fs_evaluate`) adds: a given name that is the other's initial,
    a changed surname, and vetoes (different generations; different names whose personal fields
    do not corroborate them).
    """
    e = _fs_evaluate(norm, i, j, fs)
    return e["ok"], e["total"], e["compatible"], e["replaced"]


def person_vetoes(norm: pa.Table, i: Any, j: Any, fs: dict[str, Any]) -> tuple[Any, Any]:
    """(vetoed, kept apart) of pairs another pass matched (exact keys, the fuzzy pass): the
    person pass's vetoes (``corroboration``), so no pass joins what it refuses; kept apart =
    proven different people (another generation), which also stops chaining through the pair."""
    e = _fs_evaluate(norm, i, j, fs)
    return e["veto"], e["generation_conflict"]


def _street_address_agrees(v: _PairView, k: Any, fields: dict[str, Any]) -> Any:
    """Whether pairs ``k`` (indices into the view) share a street address: the same non-empty
    house number (``street_number``), the street close or exact and the postal code or the city
    close or exact (levels computed for these pairs only)."""
    import numpy as np

    out = _same_house_number(v)[k] if len(k) else np.zeros(0, dtype=bool)
    if not out.any():
        return out

    def agrees(role: str) -> Any:
        cfg = fields.get(role)
        column = FS_COLUMNS[role]
        if cfg is None or column not in v.norm.column_names:
            return np.zeros(len(k), dtype=bool)
        a, b = _sides_at(v, column, k)
        return _fs_levels(role, a, b, cfg.get("close")) >= CLOSE

    street = agrees("street")
    if v.street_words:
        street |= _same_street_name(v, k)
    return out & street & (agrees("postal_code") | agrees("city"))


def _same_street_name(v: _PairView, k: Any) -> Any:
    """Pairs ``k`` with the same non-empty house number and the street's first word
    (``street_word``: the street without numbers, its first word) equal or one typing slip apart,
    at least three letters long: "238 berne creswcent" / "238 berne crescent civic centre", one
    side carrying a building or estate line and a typo that the ratio of the whole line scores
    below close (quality.yaml ``fellegi_sunter.street_words``)."""
    import numpy as np
    from rapidfuzz import process
    from rapidfuzz.distance import DamerauLevenshtein

    if not len(k) or "street_word" not in v.norm.column_names:
        return np.zeros(len(k), dtype=bool)
    same = _same_house_number(v)[k]
    if same.any():
        q = np.flatnonzero(same)
        wa, wb = _sides_at(v, "street_word", k[q])
        xa, xb = list(wa), list(wb)
        d = process.cpdist(xa, xb, scorer=DamerauLevenshtein.distance, score_cutoff=1, workers=-1)
        long_enough = np.fromiter(
            (min(len(x), len(y)) >= 3 for x, y in zip(xa, xb, strict=True)), bool, len(q)
        )
        same[q] = (d <= 1) & long_enough
    return same


def _same_house_number(v: _PairView) -> Any:
    """Both sides of each pair carry the same non-empty house number (``street_number``),
    computed once per view, in Arrow (no Python string per pair)."""
    import numpy as np

    if v.same_number is None:
        if "street_number" not in v.norm.column_names:
            v.same_number = np.zeros(v.n, dtype=bool)
        else:
            v.same_number = v.same_nonempty("street_number")
    return v.same_number


def _sides_at(v: _PairView, column: str, k: Any) -> tuple[Any, Any]:
    """Both sides of ``column`` for the view's pairs ``k`` only (Python strings for those)."""
    import pyarrow as pa

    col = v.norm.column(column)
    return _take(col, pa.array(v.i[k])), _take(col, pa.array(v.j[k]))


def _street_words_close(v: _PairView) -> None:
    """quality.yaml ``fellegi_sunter.street_words``: a disagreeing street is close when the house
    number is the same and the street's first word one slip at most (:func:`_same_street_name`)."""
    import numpy as np

    if not v.street_words or "street" not in v.levels:
        return
    k = np.flatnonzero(v.levels["street"] == DISAGREE)
    v.levels["street"][k[_same_street_name(v, k)]] = CLOSE


def _name_slips(
    v: _PairView, fields: dict[str, Any], slip: dict[str, Any] | None, g1: Any, s1: Any, g2: Any, s2: Any
) -> tuple[Any, Any, Any, Any]:
    """quality.yaml ``fellegi_sunter.name_slip``: a name part (of ``parts``) that disagrees but is
    one typing slip from the other side's (Damerau-Levenshtein distance 1:
    "jadk" / "jack", "bne" / "ben", "zoh" / "zoe", short names Jaro-Winkler scores below close)
    is close when the street address agrees (:func:`_street_address_agrees`). Each of the four
    comparisons (given / surname, straight / swapped) is upgraded on its own; a one-letter name
    (an initial) is left to ``initial_needs``. ``slip`` None: the levels unchanged."""
    import numpy as np
    from rapidfuzz import process
    from rapidfuzz.distance import DamerauLevenshtein

    if not slip:
        return g1, s1, g2, s2
    parts = set(slip.get("parts") or [])
    comparisons = [
        ("first_name", g1, v.fa, v.fb),
        ("last_name", s1, v.la, v.lb),
        ("first_name", g2, v.fa, v.lb),
        ("last_name", s2, v.la, v.fb),
    ]
    out = []
    address: dict[int, bool] = {}
    # the same house number first (one vectorised comparison): among candidate pairs that share
    # a postal code or street few do, so the names are compared for those alone
    same_number = _same_house_number(v)
    for role, levels, a, b in comparisons:
        k = np.flatnonzero((levels == DISAGREE) & same_number) if role in parts else np.zeros(0, np.int64)
        if len(k):
            d = process.cpdist(
                list(a[k]), list(b[k]), scorer=DamerauLevenshtein.distance, score_cutoff=1, workers=-1
            )
            k = k[d <= 1]
            k = k[np.fromiter((min(len(a[x]), len(b[x])) > 1 for x in k.tolist()), bool, len(k))]
        if len(k):
            todo = np.array([x for x in k.tolist() if x not in address], dtype=np.int64)
            if len(todo):
                address.update(
                    zip(todo.tolist(), _street_address_agrees(v, todo, fields).tolist(), strict=True)
                )
            k = k[np.fromiter((address[x] for x in k.tolist()), bool, len(k))]
            levels = levels.copy()
            levels[k] = CLOSE
        out.append(levels)
    return out[0], out[1], out[2], out[3]


def _initials_close(v: _PairView, given: Any) -> Any:
    """``given`` (the given names' levels, unswapped) with "JB" against "Jean-Baptiste" (the
    initials of a two-part given name, ``first_initials``) close instead of disagreeing."""
    import numpy as np

    if "first_initials" not in v.norm.column_names:
        return given
    ia, ib = v.sides("first_initials")
    initials = ((ia != "") & (ia == v.fb)) | ((ib != "") & (ib == v.fa))
    return np.where((given == DISAGREE) & initials, CLOSE, given).astype(np.int8)


def _other_generation(v: _PairView, mask: Any, years: int) -> Any:
    """Pairs of ``mask`` (birth dates that disagree, a contact point on both sides) whose birth
    years are ``years`` or more apart and whose e-mails are not the same: another generation,
    whatever phone and address they share (a father and son on one home phone)."""
    import numpy as np

    out = np.zeros(v.n, dtype=bool)
    cand = np.flatnonzero(mask & (v.level("email") != EXACT))
    if len(cand):
        ya, yb = v.sides("birthdate_norm")
        far = [abs(int(ya[k][:4]) - int(yb[k][:4])) >= years for k in cand]
        out[cand[np.asarray(far, dtype=bool)]] = True
    return out


def _other_account(v: _PairView, needs: list[str]) -> Any:
    """Contact pairs at two accounts (company, the account id, disagreeing) whose e-mails give two
    organisations' domains and where no field of ``needs`` (e-mail, birth date) agrees exactly: two
    contacts ("the same name at several accounts with other e-mails and birth dates is several
    contacts", whatever phone they share). One domain is one organisation entered as two accounts
    (its contact is one person)."""
    import numpy as np

    if not needs:
        return np.zeros(v.n, dtype=bool)
    out = (v.level("company") == DISAGREE) & v.both_differ("email_domain")
    for role in needs:
        out = out & (v.level(role) != EXACT)
    return out


def _own_given_name_mailboxes(v: _PairView, mask: Any, fs: dict[str, Any]) -> Any:
    """Pairs (of ``mask``: given names not the same) with two mailboxes at one domain, each holding
    its own record's given name whole (bas.kuipers@ / bram.kuipers@) and the given names no
    nickname, initial or slip of each other: two people's own mailboxes, whatever else they share
    (twins share a birth date, a phone and an address)."""
    import re

    import numpy as np
    import pyarrow as pa

    out = np.zeros(v.n, dtype=bool)
    if not (fs.get("corroboration") or {}).get("own_given_name_mailboxes"):
        return out
    extra = nickname_supplement(fs)
    ks = np.flatnonzero(mask & v.same_nonempty("email_domain") & v.both_differ("email_norm"))
    if not len(ks):
        return out
    i, j = pa.array(v.i[ks]), pa.array(v.j[ks])
    ga, gb = (v.norm.column("first_norm").take(x).to_pylist() for x in (i, j))
    ea, eb = (v.norm.column("email_norm").take(x).to_pylist() for x in (i, j))

    def holds(email: str, given: str) -> bool:
        parts = re.split(r"[._+\-]+", _translit(email.split("@")[0]))
        return bool(given) and all(_translit(w) in parts for w in given.split() if len(w) >= 2)

    for n, k in enumerate(ks.tolist()):
        a, b = ga[n] or "", gb[n] or ""
        if (
            len(a) >= 2
            and len(b) >= 2
            and holds(ea[n], a)
            and holds(eb[n], b)
            and not holds(ea[n], b)
            and not holds(eb[n], a)
            and not same_given_name(a, b, extra)
        ):
            out[k] = True
    return out


def _two_fathers(v: _PairView, s_dis: Any) -> Any:
    """Pairs whose surnames are both patronymics ("binti Ismail" / "binti Hassan") and disagree:
    two fathers' names, so two people (a patronymic is no married name)."""
    import numpy as np

    if "name_patronymic" not in v.norm.column_names:
        return np.zeros(v.n, dtype=bool)
    return v.same_nonempty("name_patronymic") & s_dis


def _birth_date_conflict(v: _PairView, bc: dict[str, Any]) -> Any:
    """quality.yaml ``corroboration.birth_date_conflict``: birth dates more than one slip apart
    and every contact point on both sides different: a father and son (or namesakes) at one
    account, whatever the names say; with ``generation_years``, birth years that far apart veto
    even when a phone agrees (unless the e-mail does)."""
    import numpy as np

    present = np.zeros(v.n, dtype=bool)
    for role in bc["when_present"]:
        present |= v.level(role) != MISSING
    bd_dis = v.level("birth_date") == DISAGREE
    veto = bd_dis & present & ~v.any_exact(bc["when_present"])
    if bc.get("generation_years"):
        veto |= _other_generation(v, bd_dis & present, int(bc["generation_years"]))
    return veto


def _fs_evaluate(norm: pa.Table, i: Any, j: Any, fs: dict[str, Any]) -> dict[str, Any]:
    """The person scorer's agreement levels, weight sum and decisions for pairs (i, j).

    ``fs.corroboration`` (quality.yaml), all optional:
    - ``generations``: both names carry a generational suffix (Sr. / Jr. / II / III) and they
      differ: two people (father and son), whatever else agrees. Vetoed and kept apart.
    - ``different_name`` (``when_present``, ``needs``: field -> exact | close): when a name part
      differs (close, replaced or an initial) and a field of when_present (e-mail, phone) is on
      both sides, one field of needs must agree at its level. Company and office address are
      shared by colleagues and an e-mail built from the name repeats the name's difference, so
      only a personal field counts: the same e-mail, direct phone or birth date. Without a
      contact point on both sides (a names-and-address list, with or without birth dates) the
      rule does not apply: there a birth date disagrees in 6 % of true duplicates (FEBRL).
      ``transposition_is_slip``: a name part that is the other with two adjacent letters
      swapped (a typing slip, often carried into the e-mail typed from it) needs nothing more.
    - ``initial_needs``: a given name written as an initial ("J." / "Jorren") agrees with a given
      name starting with that letter only when one of these holds: ``phone`` (exact),
      ``email_local`` (the same e-mail local part) or ``company_address`` (company exact and the
      address agreeing); it then weighs 0 (unknown), never a disagreement.
    - ``changed_surname`` (``needs_all``, ``needs_any``): surname replaced, given name exact,
      every field of needs_all and one of needs_any exact (same company and direct phone or e-mail:
      a married or double-barrelled name) matches without the address.
    - ``birth_date_conflict`` (``when_present``): birth dates that disagree (more than one slip)
      veto a pair when a field of when_present (e-mail, phone) is on both sides and none of them
      agrees exactly: a father and son with one name at one account. ``generation_years``: birth
      years at least this far apart veto even when a phone agrees (unless the e-mail does).
    ``replaced_name.given_name_vetoed_by``: a replaced given name does not match when one of these
    fields disagrees (twins share a birth date, phone and address, not an e-mail).
    A phone's extension (phone_ext) that differs on both sides is another person's line on the
    same switchboard: the phone disagrees.
    """
    import numpy as np

    fields = fs["fields"]
    corr = fs.get("corroboration") or {}
    v = _PairView(norm, i, j, {f: fs_weights(c) for f, c in fields.items()})
    v.street_words = bool(fs.get("street_words"))
    n = v.n
    fcfg, lcfg = fields.get("first_name"), fields.get("last_name")
    if fcfg is None or lcfg is None:
        raise ValueError("person.fellegi_sunter.fields needs first_name and last_name")
    g1 = _fs_levels("first_name", v.fa, v.fb, fcfg.get("close"))
    s1 = _fs_levels("last_name", v.la, v.lb, lcfg.get("close"))
    g2 = _fs_levels("first_name", v.fa, v.lb, fcfg.get("close"))
    if fs.get("nicknames"):  # Katherine / Kate, Robert / Bob: close, never a disagreement
        extra = nickname_supplement(fs)
        g1 = np.where((g1 == DISAGREE) & _nickname_pairs(v.fa, v.fb, extra), CLOSE, g1).astype(np.int8)
        g2 = np.where((g2 == DISAGREE) & _nickname_pairs(v.fa, v.lb, extra), CLOSE, g2).astype(np.int8)
        if fs.get("compound_given_names"):  # Maria Eduarda / Duda, Jose Antonio / Tono
            g1 = _compound_given_short_forms(v, "first_norm", g1, extra)
            g2 = _compound_given_short_forms(v, "last_norm", g2, extra)
    g1 = _given_name_aliases(v, g1)  # "Jae-won (Jason)" / "Jason"
    g1 = _initials_close(v, g1)
    s2 = _fs_levels("last_name", v.la, v.fb, lcfg.get("close"))
    s1 = _surname_forms(v, g1, s1, fs)  # particles, spacing, compound surnames
    s1 = _surname_variants(v, s1, fs)  # romanisations: Lim / Im / Yim
    g1, s1, g2, s2 = _name_slips(v, fields, fs.get("name_slip"), g1, s1, g2, s2)
    w1 = v.weigh("first_name", g1) + v.weigh("last_name", s1)
    w2 = v.weigh("first_name", g2) + v.weigh("last_name", s2)
    v.swap = w2 > w1
    given, surname = np.where(v.swap, g2, g1), np.where(v.swap, s2, s1)

    for role, cfg in fields.items():
        if role in ("first_name", "last_name"):
            continue
        column = FS_COLUMNS[role]
        if column not in norm.column_names:
            v.levels[role] = v.zeros
            continue
        a, b = v.sides(column)
        v.levels[role] = _fs_levels(role, a, b, cfg.get("close"))
    _company_short_form(v, fs)  # "Kestrelby" / "Kestrelby Software": close
    _mailbox_levels(v, corr)  # "harriet@" / "h.moss@": close
    _national_phone_forms(v, fs)  # "01 555 7720" / "+234 1 555 7720": exact
    _street_words_close(v)
    if "phone" in v.levels and "phone_ext" in norm.column_names:
        other_line = v.both_differ("phone_ext") & (v.levels["phone"] >= CLOSE)
        v.levels["phone"] = np.where(other_line, DISAGREE, v.levels["phone"]).astype(np.int8)

    if corr.get("office_lines"):
        # an office line (a number several people of one company give) agrees, but it is not
        # the personal phone that a different name, an initial or a changed surname needs
        office = _office_pairs(
            v,
            given,
            surname,
            nickname_supplement(fs) if fs.get("nicknames") else (),
            compound=bool(fs.get("nicknames") and fs.get("compound_given_names")),
        )
        v.corroborating["phone"] = np.where(office, CLOSE, v.level("phone")).astype(np.int8)
    # a given name written as its initial: unknown (weight 0) when corroborated (initial_needs)
    initial = _initial_given(v, given, corr.get("initial_needs") or [])
    given = np.where(initial, MISSING, given).astype(np.int8)
    name_w = v.weigh("first_name", given) + v.weigh("last_name", surname)
    other = np.zeros(n)
    for role, lv in v.levels.items():
        other += v.weigh(role, lv)
    total = name_w + other

    g_agree, s_agree = given >= CLOSE, surname >= CLOSE
    g_dis, s_dis = given == DISAGREE, surname == DISAGREE
    ok = ~g_dis & ~s_dis & (g_agree | s_agree) & (total >= float(fs["threshold"]))
    replaced = np.zeros(n, dtype=bool)
    personal = np.zeros(n, dtype=bool)
    rn = fs.get("replaced_name")
    if rn:
        one = (g_dis & s_agree) | (s_dis & g_agree)
        replaced = one & v.address() & (other >= float(rn["min_weight"]))
        for role in rn.get("given_name_needs") or []:
            personal |= v.level(role) == EXACT
        replaced &= ~(g_dis & ~personal)  # household blocker
        # another given name and another e-mail: twins, siblings (a shared birth date, phone and
        # address are no evidence against that; an e-mail built from the other given name and the
        # shared surname is close by ratio, celia.marchbank@ / cecily.marchbank@: on both sides
        # and not the same = another)
        for role in rn.get("given_name_vetoed_by") or []:
            lv = v.level(role)
            replaced &= ~(g_dis & (lv != MISSING) & (lv != EXACT))
    cs = corr.get("changed_surname")
    if cs:
        changed = s_dis & (given == EXACT)
        for role in cs.get("needs_all") or []:
            changed &= v.level(role) == EXACT
        replaced |= changed & v.any_exact(cs.get("needs_any") or [], corroborating=True)
        replaced &= ~_colleagues_of_one_given_name(v, replaced & s_dis, cs)
    replaced &= ~ok
    ok |= replaced

    veto = np.zeros(n, dtype=bool)
    dn = corr.get("different_name")
    if dn:
        veto |= _different_name_vetoes(v, given, surname, initial, dn)
    if corr.get("birth_date_conflict"):
        veto |= _birth_date_conflict(v, corr["birth_date_conflict"])
    veto |= _two_fathers(v, s_dis) | _other_account(v, corr.get("other_account_needs") or [])
    veto |= _own_given_name_mailboxes(v, ~(given == EXACT), fs)
    veto |= _household_given_names(v, given, corr.get("household_given_names"))
    if corr.get("numbered_mailboxes") and "email_number" in norm.column_names:
        # the same address but for its number (alexei.moravec@ / alexei.moravec2@): a mail admin
        # numbers a namesake's mailbox, so two people, even on one phone (the company's main line:
        # rounds 21 and 28, two writers' namesakes on the switchboard)
        veto |= v.same_nonempty("email_base") & v.differs("email_number")
    generation_conflict = np.zeros(n, dtype=bool)
    if corr.get("generations"):
        generation_conflict = v.both_differ("name_generation") | _one_generation(v, corr)
        veto |= generation_conflict
    if corr.get("other_employer"):
        # the same person at another employer is another lead (a lead is a person at a company):
        # vetoed and kept apart, like another generation
        employer = _other_employer(
            v, ok | replaced, v.level("company") == DISAGREE, bool(corr.get("other_employer_words"))
        )
        veto |= employer
        generation_conflict = generation_conflict | employer
    ok &= ~veto
    replaced &= ~veto
    # different names keep two clusters apart, unless a personal field (birth date, phone,
    # e-mail) agrees exactly: that is no evidence of two different people
    compatible = ((~g_dis & ~(s_dis & ~g_agree)) | personal) & ~generation_conflict
    # Liz / Beth: both Elizabeth's, no proof of two people
    compatible |= _sibling_short_forms(v, given, surname, fs) & ~generation_conflict
    return {
        "ok": ok,
        "total": total,
        "compatible": compatible,
        "replaced": replaced,
        "veto": veto,
        "generation_conflict": generation_conflict,
    }


class _PairView:
    """Both sides of candidate pairs (i, j): normalised columns taken per batch, the fields'
    agreement levels (``levels``) and their weights."""

    def __init__(self, norm: pa.Table, i: Any, j: Any, weights: dict[str, dict[int, float]]) -> None:
        import numpy as np

        self.norm, self.i, self.j, self.weights = norm, i, j, weights
        self.n = len(i)
        self.zeros = np.zeros(self.n, dtype=np.int8)
        self.levels: dict[str, Any] = {}
        self.fa, self.fb = self.sides("first_norm")
        self.la, self.lb = self.sides("last_norm")
        self.swap = np.zeros(self.n, dtype=bool)
        # levels as corroboration reads them where they differ from ``levels`` (an office line)
        self.corroborating: dict[str, Any] = {}
        self.street_words = False  # fellegi_sunter.street_words (see _same_street_name)
        self.same_number: Any = None  # _same_house_number's mask, once computed
        self.compound_part: Any = None  # surnames close as one part of a compound (_surname_forms)
        self.mailbox_fit: Any = None  # two mailboxes built from one name (_mailbox_levels), once

    def sides(self, column: str) -> tuple[Any, Any]:
        import numpy as np

        if column not in self.norm.column_names:
            empty = np.full(self.n, "", dtype=object)
            return empty, empty
        col = self.norm.column(column)
        return _take(col, self.i), _take(col, self.j)

    def both_differ(self, column: str) -> Any:
        """Both sides hold a value and the values differ (compared in Arrow: a column that is
        mostly empty, such as an extension, makes no Python string per pair)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if column not in self.norm.column_names:
            return np.zeros(self.n, dtype=bool)
        col = self.norm.column(column)
        a, b = col.take(pa.array(self.i)), col.take(pa.array(self.j))
        mask = pc.and_(pc.and_(pc.not_equal(a, ""), pc.not_equal(b, "")), pc.not_equal(a, b))
        return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)

    def _pair(self, column: str) -> tuple[Any, Any]:
        import pyarrow as pa

        col = self.norm.column(column)
        return col.take(pa.array(self.i)), col.take(pa.array(self.j))

    def same_nonempty(self, column: str) -> Any:
        """Both sides hold the same non-empty value (compared in Arrow)."""
        import numpy as np
        import pyarrow.compute as pc

        a, b = self._pair(column)
        mask = pc.and_(pc.not_equal(a, ""), pc.equal(a, b))
        return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)

    def differs(self, column: str) -> Any:
        """The two sides' values differ (an empty one included)."""
        import numpy as np
        import pyarrow.compute as pc

        a, b = self._pair(column)
        return np.asarray(pc.not_equal(a, b).to_numpy(zero_copy_only=False), dtype=bool)

    def weigh(self, role: str, levels: Any) -> Any:
        import numpy as np

        w = self.weights[role]
        return np.select(
            [levels == EXACT, levels == CLOSE, levels == DISAGREE], [w[EXACT], w[CLOSE], w[DISAGREE]], 0.0
        )

    def level(self, role: str) -> Any:
        return self.levels.get(role, self.zeros)

    def corroborating_level(self, role: str) -> Any:
        """The level a corroboration rule reads: an office line's exact phone counts as close."""
        return self.corroborating.get(role, self.level(role))

    def any_exact(self, roles: list[str], corroborating: bool = False) -> Any:
        import numpy as np

        level = self.corroborating_level if corroborating else self.level
        out = np.zeros(self.n, dtype=bool)
        for role in roles:
            out |= level(role) == EXACT
        return out

    def address(self) -> Any:
        """The street agrees and so does the postal code or the city."""
        return (self.level("street") >= CLOSE) & (
            (self.level("postal_code") >= CLOSE) | (self.level("city") >= CLOSE)
        )

    def other_given(self) -> Any:
        """The other side's given name as compared (its surname when the names were swapped)."""
        import numpy as np

        return np.where(self.swap, self.lb, self.fb)


def _office_pairs(
    v: _PairView, given: Any, surname: Any, extra: tuple[tuple[str, str], ...], compound: bool = False
) -> Any:
    """Pairs whose exact phone is an office line (:func:`office_line_keys`), looked up only for
    the pairs where the phone could back a different name: the phone exact, the e-mail and birth
    date not agreeing, a name part differing (close or disagreeing) and one agreeing."""
    import numpy as np

    out = np.zeros(v.n, dtype=bool)
    if not {"phone_norm", "phone_ext", "company_core"} <= set(v.norm.column_names):
        return out
    differ = (given == CLOSE) | (given == DISAGREE) | (surname == CLOSE) | (surname == DISAGREE)
    suspect = (
        (v.level("phone") == EXACT)
        & (v.level("email") != EXACT)
        & (v.level("birth_date") < CLOSE)
        & differ
        & ((given >= CLOSE) | (surname >= CLOSE))
    )
    if not suspect.any():
        return out
    ks = np.flatnonzero(suspect)
    la, lb = _line_keys(v.norm, v.i[ks]).to_pylist(), _line_keys(v.norm, v.j[ks]).to_pylist()
    office = office_line_keys(v.norm, extra, phones={line.split("|", 1)[0] for line in la}, compound=compound)
    if office:
        out[ks] = [a in office or b in office for a, b in zip(la, lb, strict=True)]
    return out


def _initial_given(v: _PairView, given: Any, needs: list[str]) -> Any:
    """Pairs whose given names differ because one is the other's initial ("j" / "jorren") and one
    of ``needs`` backs it: ``phone`` exact, ``email_local`` (the same e-mail local part) or
    ``company_address`` (company exact, the address agreeing)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    initial = np.zeros(v.n, dtype=bool)
    if not needs or "first_norm" not in v.norm.column_names:
        return initial
    # pairs with a one-letter given name on a side (Arrow, no Python string per pair), then the
    # few of them whose letter starts the other side's given name
    one = pc.equal(pc.utf8_length(v.norm.column("first_norm")), 1).combine_chunks()
    maybe = (
        one.take(pa.array(v.i)).to_numpy(zero_copy_only=False)
        | one.take(pa.array(v.j)).to_numpy(zero_copy_only=False)
    ) & (given == DISAGREE)
    if not maybe.any():
        return initial
    gb = v.other_given()
    k = np.flatnonzero(maybe)
    initial[k] = [bool(v.fa[x]) and bool(gb[x]) and v.fa[x][0] == gb[x][0] for x in k.tolist()]
    if not initial.any():
        return initial
    backed = np.zeros(v.n, dtype=bool)
    if "phone" in needs:
        backed |= v.corroborating_level("phone") == EXACT
    if "email_local" in needs:
        ea, eb = v.sides("email_norm")
        k = np.flatnonzero(initial)
        backed[k] |= np.array(
            [bool(ea[x]) and ea[x].split("@")[0] == eb[x].split("@")[0] for x in k.tolist()], dtype=bool
        )
    if "company_address" in needs:
        backed |= (v.level("company") == EXACT) & v.address()
    if "mailbox_fits_name" in needs:  # "mlindqvist@" beside "mikael.lindqvist@" of M. Lindqvist
        backed |= initial & _mailbox_fit(v)
    return initial & backed


def mailbox_fits_name(local: str, given: list[str], surname: list[str]) -> bool:
    """Whether an e-mail local part is built from one person's name: each of its parts (split at
    ".", "_", "-", "+") a given name or surname word, the given names' initials, or an initial or
    given name joined to a surname ("mlindqvist", "marta.olivares", "sl.goh", "harriet"); never
    with a digit (a numbered mailbox is a namesake's). ``given`` / ``surname``: folded words."""
    import re

    if not local or any(ch.isdigit() for ch in local) or not (given or surname):
        return False
    g = [_translit(w) for w in given if w]
    sn = [_translit(w) for w in surname if w]
    heads = {*g, "".join(g), "".join(w[0] for w in g), *(w[0] for w in g)}
    tails = {*sn, "".join(sn)}
    ok = heads | tails | {h + t for h in heads for t in tails} | {t + h for h in heads for t in tails}
    parts = [_translit(x) for x in re.split(r"[._+\-]+", local.lower()) if x]
    return bool(parts) and all(x in ok for x in parts) and any(len(x) >= 3 for x in parts)


def _mailboxes_fit_name(v: _PairView, among: Any = None) -> Any:
    """Pairs with two different mailboxes at one domain, both built from one name (a side's given
    name and a side's surname: :func:`mailbox_fits_name`): "harriet@" / "h.moss@" /
    "harriet.moss@", "marta@" / "marta.olivares@" of Marta Olivares Peña."""
    import numpy as np

    out = np.zeros(v.n, dtype=bool)
    ea, eb = v.sides("email_norm")
    for x in np.flatnonzero(np.ones(v.n, dtype=bool) if among is None else among).tolist():
        a, b = ea[x], eb[x]
        if not a or not b or a == b or "@" not in a or "@" not in b:
            continue
        la, da = a.rsplit("@", 1)
        lb, db = b.rsplit("@", 1)
        if da != db:
            continue
        # one person's name fits both mailboxes: a side's given name with a side's surname (either
        # order: a badge scan swaps them); never one surname per mailbox (eva.lindberg@ /
        # eva.lindgren@ are two colleagues)
        names = [(str(g).split(), str(f).split()) for g in (v.fa[x], v.fb[x]) for f in (v.la[x], v.lb[x])]
        fits = any(
            all(mailbox_fits_name(lc, g, f) or mailbox_fits_name(lc, f, g) for lc in (la, lb))
            for g, f in names
            if g and f
        )
        # a surname a mailbox spells out is both records' ("lakshmi.venkataraman@" is not
        # Lakshmi Venkatesan's; "marta.olivares@" is Olivares Peña's too)
        both = {_translit(w) for w in str(v.la[x]).split()} & {_translit(w) for w in str(v.lb[x]).split()}
        spelled = {
            _translit(w)
            for w in {*str(v.la[x]).split(), *str(v.lb[x]).split()}
            if len(w) >= 3 and any(_translit(w) in _translit(lc) for lc in (la, lb))
        }
        out[x] = fits and spelled <= both
    return out


def _one_generation(v: _PairView, corr: dict[str, Any]) -> Any:
    """Pairs where one record writes a generation ("Ybarra Jr.") and the other none, with an e-mail
    or phone on both sides and none of them the same (``corroboration.one_generation_needs``:
    e-mail, phone): a son and his father, who writes no suffix, at one family firm."""
    import numpy as np

    needs = corr.get("one_generation_needs") or []
    if not needs or "name_generation" not in v.norm.column_names:
        return np.zeros(v.n, dtype=bool)
    ga, gb = v.sides("name_generation")
    one = np.array([bool(a) != bool(b) for a, b in zip(ga, gb, strict=True)], dtype=bool)
    if not one.any():
        return one
    present = np.zeros(v.n, dtype=bool)
    same = np.zeros(v.n, dtype=bool)
    for role in needs:
        present |= v.level(role) != MISSING
        same |= v.level(role) == EXACT
    return one & present & ~same


def _mailbox_fit(v: _PairView) -> Any:
    """The pairs whose two mailboxes are one name's (:func:`_mailboxes_fit_name`, worked out once
    by :func:`_mailbox_levels`) and whose phones, as the levels stand now, do not disagree (two
    lines are two people, not one person's second mailbox)."""
    fit = v.mailbox_fit if v.mailbox_fit is not None else _mailboxes_fit_name(v)
    return fit & (v.levels["phone"] != DISAGREE) if "phone" in v.levels else fit


def _mailbox_levels(v: _PairView, corr: dict[str, Any]) -> None:
    """The e-mail levels (``v.levels``) close instead of disagreeing where two mailboxes at one
    domain are both built from one name (``corroboration.different_name.mailboxes_fit_name``)."""
    import numpy as np

    if not (corr.get("different_name") or {}).get("mailboxes_fit_name") or "email" not in v.levels:
        return
    # worked out once here, on the e-mails on both sides that are not the same; the different-name
    # and initial rules read the same mask; only a disagreeing e-mail is raised to close
    other = (v.levels["email"] != EXACT) & (v.levels["email"] != MISSING)
    v.mailbox_fit = _mailboxes_fit_name(v, other) if other.any() else np.zeros(v.n, dtype=bool)
    raise_ = _mailbox_fit(v) & (v.levels["email"] == DISAGREE)
    v.levels["email"] = np.where(raise_, CLOSE, v.levels["email"]).astype(np.int8)


def _colleagues_of_one_given_name(v: _PairView, mask: Any, cs: dict[str, Any]) -> Any:
    """Of ``mask`` (pairs matched as one person whose surname changed), those that
    ``changed_surname.own_mailboxes_veto`` refuses: each record's own surname in its own mailbox
    at one company and no birth date the same (two colleagues of one given name)."""
    import numpy as np

    if not cs.get("own_mailboxes_veto") or not mask.any():
        return np.zeros(v.n, dtype=bool)
    return mask & _own_surname_mailboxes(v) & (v.level("birth_date") != EXACT)


def _own_surname_mailboxes(v: _PairView) -> Any:
    """Pairs with two different mailboxes at one domain, each holding its own record's surname and
    not the other's ("tbouchard@" / "tbeauchesne@"): two colleagues, not a changed surname."""
    import numpy as np

    out = np.zeros(v.n, dtype=bool)
    ea, eb = v.sides("email_norm")
    for x in range(v.n):
        a, b = ea[x], eb[x]
        if not a or not b or a == b or "@" not in a or "@" not in b:
            continue
        la, da = a.rsplit("@", 1)
        lb, db = b.rsplit("@", 1)
        sa, sb = _translit(str(v.la[x]).replace(" ", "")), _translit(str(v.lb[x]).replace(" ", ""))
        la, lb = _translit(la.replace(".", "")), _translit(lb.replace(".", ""))
        out[x] = (
            da == db
            and len(sa) >= 3
            and len(sb) >= 3
            and sa != sb
            and sa in la
            and sb in lb
            and sa not in lb
            and sb not in la
        )
    return out


def _different_name_veto(v: _PairView, given: Any, surname: Any, initial: Any, dn: dict[str, Any]) -> Any:
    """Pairs whose names differ (a part close, replaced or an initial), with a field of
    ``when_present`` on both sides and none of ``needs`` agreeing at its level."""
    import numpy as np

    differ = (given == CLOSE) | (given == DISAGREE) | (surname == CLOSE) | (surname == DISAGREE) | initial
    present = np.zeros(v.n, dtype=bool)
    backed = np.zeros(v.n, dtype=bool)
    for role in dn["when_present"]:
        present |= v.level(role) != MISSING
    for role, min_level in dn["needs"].items():
        backed |= v.corroborating_level(role) >= (EXACT if min_level == "exact" else CLOSE)
    if dn.get("mailboxes_fit_name") and (differ & present & ~backed).any():
        # two mailboxes at the company, both built from the one person's name: one person's
        # second mailbox (HubSpot keeps one contact per e-mail), as good as the same e-mail
        backed |= _mailbox_fit(v)
    suspect = differ & present & ~backed
    if dn.get("transposition_is_slip") and suspect.any():
        # two adjacent letters swapped (ritikure / ritiukre, smith / smtih) is a typing slip, not
        # another person's name; a changed, added or dropped letter (dorset / dorsey, falk /
        # faulk) is as often another name, so it keeps needing a personal field
        k = np.flatnonzero(suspect)
        gb = v.other_given()
        sb = np.where(v.swap, v.fb, v.lb)
        slip = np.fromiter(
            (
                (given[x] == EXACT or _transposed(v.fa[x], gb[x]))
                and (surname[x] == EXACT or _transposed(v.la[x], sb[x]))
                for x in k.tolist()
            ),
            dtype=bool,
            count=len(k),
        )
        suspect[k[slip]] = False
    return suspect


def _other_employer(v: _PairView, mask: Any, disagree: Any, words: bool = False) -> Any:
    """Pairs (of ``mask``) at two different employers: their companies disagree (``disagree``),
    the company names without their legal form share no word, neither is the other's acronym
    ("ibf" / "international business freight") and the e-mail domains do not agree (one domain is
    the same employer, whatever the company field says; a missing e-mail does not); or (``words``)
    the names share words but each has one of its own and the two e-mails give other domains."""
    import numpy as np
    import pyarrow as pa

    out = np.zeros(v.n, dtype=bool)
    if not mask.any():
        return out
    if "email_domain" not in v.norm.column_names:
        return out
    ks = np.flatnonzero(mask & (disagree | words))
    i, j = pa.array(v.i[ks]), pa.array(v.j[ks])  # Python strings for these pairs only
    ca, cb = (v.norm.column("company_core").take(x).to_pylist() for x in (i, j))
    da, db = (v.norm.column("email_domain").take(x).to_pylist() for x in (i, j))
    for n, k in enumerate(ks.tolist()):
        wa, wb = ca[n].split(), cb[n].split()
        if not wa or not wb or (da[n] and da[n] == db[n]):
            continue
        if set(wa) & set(wb) or not disagree[k]:
            # words in common: another employer only when ``words`` and both e-mails give other
            # domains, and each name has a word of its own that no word of the other is close to
            # ("dunmore county health department" / "marlow county health department"; never
            # "quillon medical" / "quillon medical devices", a name inside the other)
            if words and da[n] and db[n] and _own_words(wa, wb) and _own_words(wb, wa):
                out[k] = True
            continue
        if "".join(w[0] for w in wa) == "".join(wb) or "".join(w[0] for w in wb) == "".join(wa):
            continue  # an acronym
        out[k] = True
    return out


def _own_words(a: list[str], b: list[str]) -> bool:
    """Whether ``a`` has a word of three letters or more that is not in ``b``, not the start of a
    word of ``b`` (or the other way round) and not one slip from one (Jaro-Winkler below 0.9)."""
    from rapidfuzz.distance import JaroWinkler

    for w in a:
        if len(w) < 3 or w in b:
            continue
        if any(x.startswith(w) or w.startswith(x) or JaroWinkler.similarity(w, x) >= 0.9 for x in b):
            continue
        return True
    return False


def dotless_local_parts(local: Any, domain: Any, email: Any, domains: list[str]) -> tuple[Any, Any]:
    """(local part, address) with the dots of the local part removed where the domain is one of
    ``domains`` (quality.yaml ``dotless_email_domains``: free-mail providers that deliver
    ``a.b.smith@`` and ``absmith@`` to one mailbox, such as gmail.com). Other domains keep their
    dots: at most providers and at every company ``j.smith@`` and ``jsmith@`` are two mailboxes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    local, domain, email = (
        x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x for x in (local, domain, email)
    )
    mask = pc.and_(
        pc.fill_null(pc.is_in(domain, value_set=pa.array(domains, pa.string())), False),
        pc.match_substring(local, "."),
    )
    if not int(pc.sum(mask).as_py() or 0):
        return local, email
    local = pc.replace_with_mask(local, mask, pc.replace_substring(local.filter(mask), ".", ""))
    email = pc.if_else(
        pc.and_(mask, pc.not_equal(email, "")), pc.binary_join_element_wise(local, domain, "@"), email
    )
    return local, email


def surname_parts(values: Any) -> pa.Array:
    """The words of a surname of two words or more, a hyphen separating words too
    ("Carrasquedo-Villalún" -> "carrasquedo villalun"; ``last_norm`` deletes the hyphen:
    "carrasquedovillalun"), folded; '' for a one-word surname (most: the person scorer looks at
    the pairs with a value on a side only)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = fold(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    multi = pc.fill_null(pc.match_substring_regex(arr, r"\S[\s\-]+\S"), False)
    out = pa.array([""] * len(arr), pa.string())
    if int(pc.sum(multi).as_py() or 0):
        parts = strip_punct(pc.replace_substring(arr.filter(multi), "-", " "))
        out = pc.replace_with_mask(out, multi, parts)
    return out


def _surname_words(norm: str, parts: str, particles: frozenset[str]) -> list[str]:
    """A surname's words without its leading particles ("von tessenberg" -> ["tessenberg"];
    "van der oosterhuyt" -> ["oosterhuyt"]); ``parts``: its hyphenated words when it had a hyphen."""
    words = (parts or norm).split()
    k = 0
    while k < len(words) - 1 and words[k] in particles:
        k += 1
    return words[k:]


def _surname_forms(v: _PairView, given: Any, surname: Any, fs: dict[str, Any]) -> Any:
    """``surname`` (the straight surname levels) raised where two surnames are one written
    another way (quality.yaml ``fellegi_sunter``):

    - spacing only ("Mac Alderry" / "MacAlderry", "van der Oosterhuyt" / "Vanderoosterhuyt",
      "de la Courbiere" / "Delacourbiere"): exact;
    - ``surname_particles``: a leading particle dropped ("von Tessenberg" / "Tessenberg",
      "van der Berg" / "Berg"): close (Mac / Mc are not particles: McDonald is not Donald);
    - ``compound_surnames``: one part of a double-barrelled or compound surname ("Carrasquedo
      Villalun" or "Carrasquedo-Villalun" / "Villalun", "Oyelaran-Brandt" / "Brandt"): close,
      only when the given names agree (exact or close).

    Close is still a different name: a contact point on both sides then needs a personal field
    to agree (``corroboration.different_name``), as for any other surname variant."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    particles = frozenset(str(p).strip().lower() for p in fs.get("surname_particles") or [])
    compound = bool(fs.get("compound_surnames"))
    slip = compound and bool(fs.get("compound_surname_slip"))
    if not (particles or compound) or "last_parts" not in v.norm.column_names:
        return surname
    # only pairs with a surname of two words or more on a side (``last_parts`` not empty): a
    # test in Arrow, no Python string for the others
    parts_a, parts_b = v._pair("last_parts")
    multi = pc.or_(pc.not_equal(parts_a, ""), pc.not_equal(parts_b, ""))
    cand = np.flatnonzero(
        np.asarray(multi.to_numpy(zero_copy_only=False), dtype=bool)
        & (surname != EXACT)
        & (surname != MISSING)
    )
    if not len(cand):
        return surname
    out = surname.copy()
    v.compound_part = np.zeros(v.n, dtype=bool)
    at = pa.array(cand)
    pa_, pb_ = parts_a.take(at).to_pylist(), parts_b.take(at).to_pylist()
    for n, k in enumerate(cand.tolist()):
        a, b = v.la[k], v.lb[k]
        if a.replace(" ", "") == b.replace(" ", ""):
            out[k] = EXACT
            continue
        wa, wb = _surname_words(a, pa_[n], particles), _surname_words(b, pb_[n], particles)
        if particles and "".join(wa) == "".join(wb):
            out[k] = max(out[k], CLOSE)
        elif compound and given[k] >= CLOSE and min(len(wa), len(wb)) == 1 and max(len(wa), len(wb)) > 1:
            one, many = (wa[0], wb) if len(wa) == 1 else (wb[0], wa)
            if (len(one) >= 3 and one in many) or (slip and _compound_part_slip(one, many)):
                out[k] = max(out[k], CLOSE)
                v.compound_part[k] = True
    return out.astype(np.int8)


def _given_name_aliases(v: _PairView, given: Any) -> Any:
    """``given`` exact where one side's bracketed alias is the other's given name ("Jae-won
    (Jason)" / "Jason": the English name the person also goes by; quality.yaml
    ``bracketed_given_aliases``)."""
    import numpy as np

    if "first_alias" not in v.norm.column_names:
        return given
    aa, ab = v._pair("first_alias")
    import pyarrow.compute as pc

    has = np.asarray(
        pc.or_(pc.not_equal(aa, ""), pc.not_equal(ab, "")).to_numpy(zero_copy_only=False), dtype=bool
    )
    cand = np.flatnonzero(has & (given != EXACT))
    if not len(cand):
        return given
    out = given.copy()
    xa, xb = v.sides("first_alias")
    for k in cand.tolist():
        if (xa[k] and xa[k] == v.fb[k]) or (xb[k] and xb[k] == v.fa[k]):
            out[k] = EXACT
    return out.astype(np.int8)


def _surname_variants(v: _PairView, surname: Any, fs: dict[str, Any]) -> Any:
    """``surname`` close where two surnames are romanisations of one name (quality.yaml
    ``fellegi_sunter.surname_variants``: Korean Lim / Im / Yim / Rim, Lee / Yi / Rhee) and a
    personal field (e-mail, phone or birth date) is the same on both sides. Close is still a
    different name: the corroboration rules apply as to any other variant. (Russian ё / е written
    yo / io / ye / e, Solovyova / Soloviova / Soloveva, is close by Jaro-Winkler already.)"""
    import numpy as np

    groups: dict[str, int] = {}
    for g, names in enumerate(fs.get("surname_variants") or []):
        for name in names:
            groups[str(name).strip().lower()] = g
    if not groups:
        return surname
    personal = np.zeros(v.n, dtype=bool)
    for column in ("email_norm", "phone_norm", "birthdate_norm"):
        if column in v.norm.column_names:
            personal |= v.same_nonempty(column)
    cand = np.flatnonzero(personal & (surname != EXACT) & (surname != MISSING))
    if not len(cand):
        return surname
    out = surname.copy()
    for k in cand.tolist():
        ga = groups.get(v.la[k])
        if ga is not None and ga == groups.get(v.lb[k]):
            out[k] = max(out[k], CLOSE)
    return out.astype(np.int8)


def household_mailbox(local: str, given_a: str, given_b: str, family_words: frozenset[str]) -> bool:
    """Whether an e-mail local part is a household's, not one of two people's: a word of
    ``family_words`` in it ("famille.chassagne"), or a word of two or three letters holding the
    first letters of both (different) given names ("hm.visagie" for Hendrik and Marietjie)."""
    import re

    words = [w for w in re.split(r"[._+\-]", local) if w]
    if any(w in family_words for w in words):
        return True
    a, b = given_a[:1], given_b[:1]
    return bool(a and b and a != b and any(len(w) in (2, 3) and a in w and b in w for w in words))


def _household_given_names(v: _PairView, given: Any, hg: dict[str, Any] | None) -> Any:
    """quality.yaml ``corroboration.household_given_names``: two people behind one contact point,
    vetoed. Given names that disagree (no nickname, variant, alias, initial or slip) with birth
    dates that disagree, whatever contact point they share (Bernard / Odile on
    famille.chassagne@, born 1955 / 1958); and given names that disagree on one household
    mailbox (:func:`household_mailbox`: Hendrik / Marietjie on hm.visagie@), where the same
    e-mail is no evidence of one person. Only with an e-mail or phone on both sides (a
    names-and-address list's birth date slips are untouched); short forms on one personal
    mailbox (Beppe / g.castelvorno@ of Giuseppe) are not touched."""
    import numpy as np

    if hg is None:
        return np.zeros(v.n, dtype=bool)
    g_dis = given == DISAGREE
    present = np.zeros(v.n, dtype=bool)
    for role in ("email", "phone"):
        present |= v.level(role) != MISSING
    veto = g_dis & present & (v.level("birth_date") == DISAGREE)
    cand = np.flatnonzero(g_dis & (v.level("email") == EXACT) & ~veto)
    if len(cand):
        words = frozenset(str(w).strip().lower() for w in hg.get("family_mailbox_words") or [])
        other = v.other_given()
        email = v.sides("email_norm")[0]
        for k in cand.tolist():
            if household_mailbox(email[k].split("@")[0], v.fa[k], other[k], words):
                veto[k] = True
    return veto


def _compound_part_slip(one: str, many: list[str]) -> bool:
    """Whether ``one`` (5 letters or more) is one typing slip from a part of the compound surname
    ``many`` ("bitencourt" / "nogueira bittencourt"; quality.yaml
    ``fellegi_sunter.compound_surname_slip``)."""
    from rapidfuzz.distance import DamerauLevenshtein

    return len(one) >= 5 and any(
        len(w) >= 5 and DamerauLevenshtein.distance(one, w, score_cutoff=1) <= 1 for w in many
    )


def _company_short_form(v: _PairView, fs: dict[str, Any]) -> None:
    """The company levels (``v.levels``) with a shortened company name close instead of disagreeing: one
    company (without its legal form) is the other's leading words ("Kestrelby" / "Kestrelby
    Software", "Duskwater Capital" / "Duskwater Capital Partners"), as a form or a badge scanner
    shortens it (quality.yaml ``fellegi_sunter.company_short_form``). Close, not exact: a
    holding and its subsidiary can be written so, so it weighs less than the same company."""
    import numpy as np

    if not fs.get("company_short_form") or "company" not in v.levels:
        return
    levels = v.levels["company"]
    cand = np.flatnonzero(levels == DISAGREE)
    if not len(cand) or "company_core" not in v.norm.column_names:
        return
    ca, cb = v.sides("company_core")
    out = levels.copy()
    for k in cand.tolist():
        a, b = ca[k], cb[k]
        if (len(a) < len(b) and b.startswith(a + " ")) or (len(b) < len(a) and a.startswith(b + " ")):
            out[k] = CLOSE
    v.levels["company"] = out


@functools.cache
def _sibling_short_form_keys(extra: tuple[tuple[str, str], ...] = ()) -> Any:
    """Every "a|b" of two short forms of one name (Liz and Beth of Elizabeth) in the
    ``nicknames`` package's table and ``extra`` (nickname_supplement)."""
    import pyarrow as pa
    from nicknames import name_triplets

    forms: dict[str, set[str]] = {}
    for t in name_triplets():
        if t.relationship == "has_nickname":
            forms.setdefault(t.name1, set()).add(t.name2)
    for name, nickname in extra:
        forms.setdefault(name, set()).add(nickname)
    keys = set()
    for shorts in forms.values():
        for a, b in itertools.permutations(sorted(shorts), 2):
            keys.add(f"{a}|{b}")
    return pa.array(sorted(keys), pa.string())


def _sibling_short_forms(v: _PairView, given: Any, surname: Any, fs: dict[str, Any]) -> Any:
    """Pairs whose given names disagree but are two short forms of one name (Liz / Beth of
    Elizabeth) and whose surnames agree (quality.yaml ``fellegi_sunter.sibling_short_forms``):
    not a match on their own (Ron and Erin are both Aaron's too), but no proof of two people
    either, so such a pair does not keep apart two records that a third (Elizabeth) matched."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.zeros(v.n, dtype=bool)
    if not fs.get("sibling_short_forms"):
        return out
    cand = np.flatnonzero((given == DISAGREE) & (surname >= CLOSE))
    if not len(cand):
        return out
    # the names taken in Arrow (no Python string per pair: FEBRL-like lists hold many
    # household pairs, one surname with two given names)
    ia, ja = pa.array(v.i[cand]), pa.array(v.j[cand])
    first, last = v.norm.column("first_norm"), v.norm.column("last_norm")
    fa = first.take(ia).combine_chunks()
    gb = pc.if_else(pa.array(v.swap[cand]), last.take(ja).combine_chunks(), first.take(ja).combine_chunks())
    key = pc.binary_join_element_wise(fa, gb, "|")
    extra = nickname_supplement(fs) if fs.get("nicknames") else ()
    hit = pc.is_in(key, value_set=_sibling_short_form_keys(extra)).to_numpy(zero_copy_only=False)
    out[cand] = np.asarray(hit, dtype=bool)
    return out


def _transposed(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with two adjacent letters swapped (one typing slip)."""
    if len(a) != len(b) or a == b:
        return False
    diff = [k for k in range(len(a)) if a[k] != b[k]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _national_phones(rules: dict[str, Any]) -> bool:
    """Whether the person scorer compares national phone forms (quality.yaml
    ``person.fellegi_sunter.national_phone_forms``; read when normalising)."""
    return bool(((rules.get("person") or {}).get("fellegi_sunter") or {}).get("national_phone_forms"))


def _national_phone_forms(v: _PairView, fs: dict[str, Any]) -> None:
    """The phone levels (``v.levels``) exact, not close or disagreeing, where one number is 7 or
    8 digits (a national form without its trunk 0, :func:`_digits`) and the other ends with it:
    "01 555 7720" / "+234 1 555 7720" (quality.yaml ``fellegi_sunter.national_phone_forms``).
    Pairs of two full numbers are untouched."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not fs.get("national_phone_forms") or "phone" not in v.levels:
        return
    levels = v.levels["phone"]
    if not ((levels == DISAGREE) | (levels == CLOSE)).any():
        return
    a, b = v._pair("phone_norm")
    short = pc.or_(pc.less(pc.utf8_length(a), 9), pc.less(pc.utf8_length(b), 9))
    cand = np.flatnonzero(
        np.asarray(short.to_numpy(zero_copy_only=False), dtype=bool) & (levels >= DISAGREE) & (levels < EXACT)
    )
    if not len(cand):
        return
    phone = v.norm.column("phone_norm")  # Python strings for these pairs only
    xs, ys = (phone.take(pa.array(side[cand])).to_pylist() for side in (v.i, v.j))
    out = levels.copy()
    for k, x, y in zip(cand.tolist(), xs, ys, strict=True):
        if x and y and len(x) != len(y) and (x.endswith(y) if len(x) > len(y) else y.endswith(x)):
            out[k] = EXACT
    v.levels["phone"] = out


@functools.cache
def _nickname_key_set(extra: tuple[tuple[str, str], ...] = ()) -> frozenset[str]:
    """:func:`_nickname_keys` as a Python set (for the few pairs looked at one by one)."""
    return frozenset(_nickname_keys(extra).to_pylist())


def _compound_given_short_form(a: str, b: str, keys: frozenset[str]) -> bool:
    """Whether one given name has two words or more and the other, one word, is one of them or a
    short form of one of them ("miguel angel" / "miguel", "maria eduarda" / "duda", "jose antonio"
    / "tono"; ``keys``: "name|nickname")."""
    wa, wb = a.split(), b.split()
    if len(wa) == len(wb) or min(len(wa), len(wb)) != 1:
        return False
    one, many = (wa[0], wb) if len(wa) == 1 else (wb[0], wa)
    return any(w == one or f"{w}|{one}" in keys for w in many)


def _compound_given_short_forms(
    v: _PairView, b_column: str, levels: Any, extra: tuple[tuple[str, str], ...]
) -> Any:
    """``levels`` (given names: side a's ``first_norm`` against side b's ``b_column``) close
    instead of disagreeing where one given name has two words or more and the other is a short
    form of one of its words (quality.yaml ``fellegi_sunter.compound_given_names``: Duda of
    Maria Eduarda, Tono of Jose Antonio). Like a nickname, close still needs what
    ``corroboration.different_name`` asks."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cand = np.flatnonzero(levels == DISAGREE)
    if not len(cand):
        return levels
    # only pairs with a space in a given name, tested in Arrow on the normalised columns (no
    # Python string per pair: most disagreeing pairs of a names-and-address list have none)
    spaced = pc.or_(
        pc.match_substring(v.norm.column("first_norm").take(pa.array(v.i[cand])), " "),
        pc.match_substring(v.norm.column(b_column).take(pa.array(v.j[cand])), " "),
    )
    cand = cand[np.asarray(spaced.to_numpy(zero_copy_only=False), dtype=bool)]
    a = v.fa
    b = v.fb if b_column == "first_norm" else v.lb
    if not len(cand):
        return levels
    keys = _nickname_key_set(extra)
    out = levels.copy()
    for k in cand.tolist():
        if _compound_given_short_form(a[k], b[k], keys):
            out[k] = CLOSE
    return out.astype(np.int8)


def _different_name_vetoes(v: _PairView, given: Any, surname: Any, initial: Any, dn: dict[str, Any]) -> Any:
    """:func:`_different_name_veto` without the pairs ``compound_part_unopposed`` lets through
    (Bitencourt / Nogueira Bittencourt on one line)."""
    different = _different_name_veto(v, given, surname, initial, dn)
    if dn.get("compound_part_unopposed"):
        different &= ~_compound_part_unopposed(v, given, dn)
    return different


def _compound_part_unopposed(v: _PairView, given: Any, dn: dict[str, Any]) -> Any:
    """Pairs whose surnames differ only as a compound surname written with one of its parts
    (``v.compound_part``), with the same given name and company, and every field of
    ``when_present`` on both sides agreeing exactly (an office line counts: it is the same line)
    and none disagreeing (quality.yaml ``corroboration.different_name.compound_part_unopposed``):
    the name written shorter needs no personal field. Two people sharing a part of a compound
    surname at one company have their own mailboxes or lines (they disagree) or other given
    names."""
    import numpy as np

    out = np.zeros(v.n, dtype=bool)
    if v.compound_part is None or not v.compound_part.any():
        return out
    out = v.compound_part & (given == EXACT) & (v.level("company") == EXACT)
    agree = np.zeros(v.n, dtype=bool)
    for role in dn["when_present"]:
        lv = v.level(role)
        out &= (lv == MISSING) | (lv == EXACT)
        agree |= lv == EXACT
    return out & agree


def fs_score(total: Any, threshold: float) -> Any:
    """A weight sum on 0-100 for the clusters' ``score``: the match probability (in %) when the
    prior odds are 2**-threshold (posterior odds = prior odds x 2**weight sum), so 50 at the
    threshold and 66.7 one weight above it."""
    import numpy as np

    return 100.0 / (1.0 + np.exp2(-(np.asarray(total, dtype=float) - threshold)))


def _person_scores(norm: pa.Table, i: Any, j: Any, rules: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(matched mask, score 0-100, names agree) of the person pass for candidate pairs (i, j)."""
    import numpy as np

    fs = rules.get("fellegi_sunter")
    if fs:
        ok, total, compatible, _replaced = fs_person_scores(norm, i, j, fs)
        return ok, fs_score(total, float(fs["threshold"])), compatible

    def sides(column: str) -> tuple[Any, Any, Any]:
        v = norm.column(column)
        a, b = _take(v, i), _take(v, j)
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
    wsum = np.full(len(i), weights.get("name", 1.0))
    evidence = np.zeros(len(i), dtype=bool)
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
            sims[role] = np.full(len(i), np.nan)
            continue
        sim = _text_similarity(role, a, b)
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
    a: Any,
    b: Any,
    roles: list[str],
    suffixes: dict[str, str],
    cores: tuple[str, str] | None = None,
) -> str:
    """The lightest normalisation that makes the duplicate (row ``a``: role -> raw value) equal to
    its original (``b``); ``cores``: the two account name cores."""
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
    for kind, fn in levels:
        if all(fn(r, a[r]) == fn(r, b[r]) for r in roles):
            return kind
    if cores is not None and cores[0] and cores[0] == cores[1]:
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


def _usable(norm: pa.Table, rules: dict[str, Any]) -> bool:
    """Whether any exact or blocking key has a value in at least two records."""
    import pyarrow.compute as pc

    keys = [list(k) for k in rules.get("keys", [])] + [list(k) for k in rules.get("blocking", [])]
    keys += [list(k) for k in (rules.get("person") or {}).get("blocking", [])]
    for key in keys:
        if not key or not all(c in norm.column_names for c in key):
            continue
        mask = pc.not_equal(norm.column(key[0]), "")
        for c in key[1:]:
            mask = pc.and_(mask, pc.not_equal(norm.column(c), ""))
        if int(pc.sum(mask).as_py() or 0) >= 2:
            return True
    return False


class _Blocks:
    """The matcher's DuckDB side: the normalised records (an Arrow table, scanned in place), the
    blocks of a pass and its candidate pairs streamed in record batches (include/sql/quality/
    duplicates/). Its own in-memory instance, bounded by ``memory_limit`` and spilling to a
    temporary directory, so a pass over millions of records never holds its pairs at once."""

    def __init__(self, norm: pa.Table) -> None:
        import tempfile

        import duckdb
        import numpy as np
        import pyarrow as pa

        self._tmp = tempfile.TemporaryDirectory(prefix="salesops-dup-")
        self.con = duckdb.connect(
            config={
                "memory_limit": _duckdb_memory_limit(),
                "temp_directory": self._tmp.name,
                "preserve_insertion_order": False,  # pairs stream; their order does not matter
                **({"threads": int(os.environ["SALESOPS_DUCKDB_THREADS"])} if _threads_set() else {}),
            }
        )
        self.columns = set(norm.column_names)
        self.table = "dup_blocks_0"  # the current pass's blocks (build)
        self._built: dict[tuple[Any, int], tuple[str, tuple[int, int, list[str]]]] = {}
        self._released = False
        self.con.register("dup_records", norm.append_column("idx", pa.array(np.arange(norm.num_rows))))

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()

    def release_records(self) -> None:
        """Let go of the registered records: every pass's blocks are built (a rebuild of the same
        keys reuses them), so DuckDB no longer scans them and the key columns only the blocks read
        can be freed by the caller. A pass with new keys after this is an error."""
        self.con.unregister("dup_records")
        self._released = True

    def _key(self, key: Any) -> list[str]:
        cols = [str(c) for c in key]
        unknown = [c for c in cols if c not in self.columns]
        if unknown or not cols:  # quality.yaml names the matcher's own columns, nothing else
            raise ValueError(f"duplicates key {cols}: unknown column(s) {unknown or cols}")
        return cols

    def run(
        self, relpath: str, params: dict[str, Any] | None = None, *, relation: bool = False, **jinja: Any
    ) -> Any:
        """Run include/sql/quality/duplicates/<relpath>; ``relation``: a lazy DuckDB relation
        (read as Arrow, streamed) instead of an executed cursor."""
        from salesops import sql
        from salesops.quality._db import _BIND

        statement = sql.render(f"quality/duplicates/{relpath}", dialect="duckdb", **jinja)
        names = set(_BIND.findall(statement))
        native = _BIND.sub(lambda mt: "$" + mt.group(1), statement)
        values = {k: v for k, v in (params or {}).items() if k in names}
        if relation:
            return self.con.sql(native, params=values or None)
        return self.con.execute(native, values)

    def exact_pairs(self, key: Any) -> tuple[Any, Any]:
        """(i, j) pairs of one exact key: each later record with its key's first record."""
        t = self.run("exact_pairs.sql", relation=True, dup_key=self._key(key)).to_arrow_table()
        return t.column("i").to_numpy(), t.column("j").to_numpy()

    def build(self, keys: list[Any], max_block: int) -> tuple[int, int, list[str]]:
        """Block ids of one pass; (oversized blocks, records in them, a note per key with any).
        A pass built before (the same keys and max_block: the no-chaining re-scoring) is reused,
        not grouped again."""
        self.keys = [self._key(k) for k in keys]
        cache_key = (tuple(tuple(k) for k in self.keys), max_block)
        if cache_key in self._built:
            self.table, found = self._built[cache_key]
            return found
        if self._released:
            raise RuntimeError(f"duplicates: blocks of {self.keys} asked for after the records were released")
        self.table = f"dup_blocks_{len(self._built)}"
        blocks = records = 0
        notes = []
        for k, key in enumerate(self.keys):
            self.run("key_groups.sql", dup_key=key, dup_key_index=k)
            b, r = self.run("oversized_blocks.sql", {"max_block": max_block}, dup_key_index=k).fetchone()
            if b:
                blocks, records = blocks + int(b), records + int(r)
                notes.append(f"{'+'.join(key)}: {int(b)} blocks of > {max_block} records ({int(r)} records)")
        if self.keys:
            self.run("blocks.sql", {"max_block": max_block}, dup_keys=self.keys, dup_table=self.table)
        for k in range(len(self.keys)):
            self.con.execute(f"drop table if exists dup_groups_{k}")
        found = (blocks, records, notes)
        self._built[cache_key] = (self.table, found)
        return found

    def members(self, k: int) -> tuple[Any, Any]:
        """(block id, record position) of every record in a block of key number ``k``, sorted."""
        t = self.run(
            "block_members.sql", relation=True, dup_key_index=k, dup_table=self.table
        ).to_arrow_table()
        return t.column("g").to_numpy(), t.column("idx").to_numpy()

    def candidate_count(self) -> int:
        """How many distinct candidate pairs the pass has (what :meth:`pairs` would yield): counted
        from the blocks' sizes by inclusion-exclusion over the keys (a pass of 511 k accounts has
        189 M pairs: generating them only to count them cost 3 CPU-s); a pass of more than
        :data:`_COUNT_KEYS_MAX` keys (2^n - 1 groupings) counts the generated pairs."""
        import itertools

        n = len(self.keys)
        if 0 < n <= _COUNT_KEYS_MAX:
            subsets = [
                {"key_numbers": list(ks), "sign": 1 if size % 2 else -1}
                for size in range(1, n + 1)
                for ks in itertools.combinations(range(n), size)
            ]
            (count,), *_ = self.run(
                "candidate_count.sql", dup_subsets=subsets, dup_table=self.table
            ).fetchall()
            return int(count)
        return sum(
            int(
                self.run(
                    "candidate_pairs.sql",
                    relation=True,
                    dup_key_index=k,
                    dup_matched_only=False,
                    dup_table=self.table,
                )
                .aggregate("count(*)")
                .fetchall()[0][0]
            )
            for k in range(len(self.keys))
        )

    def pairs(self, batch_rows: int, matched: Any = None) -> Iterator[tuple[Any, Any]]:
        """Every distinct candidate pair (i < j) of the pass, in batches of at most ``batch_rows``;
        ``matched`` (record positions): only pairs of two of those records."""
        import pyarrow as pa

        if matched is not None:
            self.con.register("dup_matched", pa.table({"idx": pa.array(matched, pa.int64())}))
        try:
            for k in range(len(self.keys)):
                reader = self.run(
                    "candidate_pairs.sql",
                    relation=True,
                    dup_key_index=k,
                    dup_matched_only=matched is not None,
                    dup_table=self.table,
                ).to_arrow_reader(batch_rows)
                for batch in reader:
                    if batch.num_rows:
                        yield batch.column(0).to_numpy(), batch.column(1).to_numpy()
                    _release()
        finally:
            if matched is not None:
                self.con.unregister("dup_matched")


# Keys of a pass up to which candidate_count counts pairs by inclusion-exclusion (2^n - 1 group-bys).
_COUNT_KEYS_MAX = 6


def _duckdb_memory_limit() -> str:
    """The matcher's DuckDB budget: SALESOPS_DUPLICATES_DUCKDB_MEMORY (default 512MB)."""
    import re

    limit = os.getenv("SALESOPS_DUPLICATES_DUCKDB_MEMORY", "512MB")
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, flags=re.I):
        raise ValueError(f"SALESOPS_DUPLICATES_DUCKDB_MEMORY must look like 512MB or 1GiB, not {limit!r}")
    return limit


def _threads_set() -> bool:
    return bool(os.getenv("SALESOPS_DUCKDB_THREADS"))


def _apply_person_vetoes(
    norm: pa.Table, pair_score: dict[tuple[int, int], float], person: dict[str, Any], batch: int
) -> set[tuple[int, int]]:
    """Drop the matched pairs the person scorer vetoes (``fellegi_sunter.corroboration``) from
    ``pair_score``; returns those to keep apart (proven different people)."""
    import numpy as np

    fs = person.get("fellegi_sunter") or {}
    if not fs.get("corroboration") or not pair_score:
        return set()
    pairs = np.array(list(pair_score), dtype=np.int64).reshape(-1, 2)
    apart: set[tuple[int, int]] = set()
    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        veto, different = person_vetoes(norm, chunk[:, 0], chunk[:, 1], fs)
        for a, b in chunk[veto].tolist():
            del pair_score[(a, b)]
        apart.update((a, b) for a, b in chunk[different].tolist())
    return apart


def _cluster(n: int, matched: dict[tuple[int, int], float], rejected: set[tuple[int, int]]) -> Any:
    """Union-find over the matched pairs, best score first, refusing a merge across which some
    compared pair was rejected (no chaining of different people through one shared value)."""
    import numpy as np

    uf = _UnionFind()
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
    roots = np.arange(n)
    for k in list(uf.parent):
        roots[k] = uf.find(k)
    return roots


def _needed_columns(object_name: str, rules: dict[str, Any]) -> set[str]:
    """The normalised columns the matcher reads: keys, blocking keys and compared fields."""
    cols = _scored_columns(object_name, rules)
    person = rules.get("person") or {}
    for key in [*rules.get("keys", []), *rules.get("blocking", []), *person.get("blocking", [])]:
        cols |= {str(c) for c in key}
    return cols


def _scored_columns(object_name: str, rules: dict[str, Any]) -> set[str]:
    """The normalised columns the matcher reads after the blocks are built: the compared fields
    (and the record ids); a column only keys and blocking keys use is read by DuckDB alone."""
    cols = {"record_id", "match_name", "email_norm", "company_norm"}
    if object_name == "account":
        cols |= {"name_core"}
        tok = rules.get("tokens") or {}
        if (
            tok.get("acronyms")
            or tok.get("cut_lengths")
            or tok.get("trade_descriptors")
            or tok.get("same_site")
        ):
            cols |= {"website_domain"}
    else:
        cols |= {
            "first_norm",
            "last_norm",
            "phone_norm",
            "street_norm",
            "city_norm",
            "postal_norm",
            "state_norm",
            "birthdate_norm",
            "name_generation",
            "name_patronymic",
            "company_core",
            "phone_ext",
            "email_number",
            "email_base",
            "email_domain",
            "first_initials",
        }
    person = rules.get("person") or {}
    fs = person.get("fellegi_sunter") or {}
    if object_name != "account" and (fs.get("compound_surnames") or fs.get("surname_particles")):
        cols.add("last_parts")
    if fs.get("name_slip") or fs.get("street_words"):  # the house number, the street's first word
        cols |= {"street_number", "street_word"}
    if object_name != "account" and rules.get("bracketed_given_aliases"):
        cols.add("first_alias")
    return cols


def _without_block_keys(blocks: _Blocks, norm: pa.Table, object_name: str, rules: dict[str, Any]) -> pa.Table:
    """``norm`` without the columns only blocking keys read, once every pass's blocks are built
    (the person pass's street, name-order and company keys: ~150 MB of 2 M leads' columns that
    the scoring of the pairs, the matcher's longest step, would otherwise hold)."""
    blocks.release_records()
    keep = _scored_columns(object_name, rules)
    norm = norm.drop_columns([c for c in norm.column_names if c not in keep])
    _release()
    return norm


# Pairs scored at a time: the Python strings of one batch (both sides of every compared field)
# are what the matcher holds beyond its Arrow columns (quality.yaml score_chunk_pairs overrides).
DEFAULT_BATCH_PAIRS = 100_000


def _fuzzy_batch(
    columns: dict[str, Any],
    i: Any,
    j: Any,
    weights: dict[str, float],
    rules: dict[str, Any],
    core: Any,
    idf: dict[str, float],
) -> tuple[Any, Any, Any]:
    """The fuzzy pass on a batch of pairs: (matched mask, weighted score, rejected-as-different
    mask: names differ, so the pair keeps the two records' clusters apart)."""
    import numpy as np

    scores = _weighted_scores(columns, i, j, weights)
    tok = rules.get("tokens") or {}
    if idf:
        # the whole-string ratio only pre-filters; the word-weighted score decides
        ok = np.nan_to_num(scores["_weighted"], nan=0.0) >= float(tok.get("prefilter", 70))
        weighted = np.zeros(len(i))
        floor = float(tok.get("token_floor", 85))
        default = max(idf.values(), default=1.0)
        for k in np.flatnonzero(ok).tolist():
            weighted[k] = token_score(core[i[k]], core[j[k]], idf, floor, default)
        scores["_weighted"] = weighted
        ok = weighted >= float(rules.get("min_score", 90))
    else:
        ok = scores["_weighted"] >= float(rules.get("min_score", 90))
        for role, floor_ in (rules.get("field_floor") or {}).items():
            s = scores.get(role)
            if s is not None:
                ok &= np.isnan(s) | (s >= float(floor_))
        ok &= ~np.isnan(scores["_weighted"])
        # The typo model: a duplicate is the same record re-keyed with a slip in one place, so
        # the other fields must agree exactly after normalisation. This is what keeps two
        # different people with look-alike short names/emails at look-alike companies apart.
        min_equal = int(rules.get("min_equal_fields", 0))
        if min_equal:
            equal = sum(np.nan_to_num(scores[r], nan=0.0) >= 100.0 for r in weights)
            ok &= equal >= min_equal
    # a rejected pair blocks a merge only when its names differ (two different people /
    # companies), not when the evidence was merely too thin to match it on its own
    name_floor = float((rules.get("field_floor") or {}).get("name", rules.get("min_score", 90)))
    differ = ~ok & (np.nan_to_num(scores.get("name", scores["_weighted"]), nan=100.0) < name_floor)
    return ok, scores["_weighted"], differ


def _fuzzy_pass(
    blocks: _Blocks,
    columns: dict[str, Any],
    weights: dict[str, float],
    rules: dict[str, Any],
    core: Any,
    idf: dict[str, float],
    batch: int,
    pair_score: dict[tuple[int, int], float],
) -> tuple[int, int]:
    """The fuzzy pass over the blocks just built; matched pairs go into ``pair_score`` (an earlier
    exact-key score stays). Returns (candidate pairs, matched pairs)."""
    if idf and list(weights) == ["name"]:  # accounts: a block's names all against all at once
        return _word_weighted_pass(blocks, columns["name"], core, idf, rules, pair_score)
    candidates = matched = 0
    for i, j in blocks.pairs(batch):
        candidates += len(i)
        ok, weighted, _differ = _fuzzy_batch(columns, i, j, weights, rules, core, idf)
        matched += int(ok.sum())
        for a, b, s in zip(i[ok].tolist(), j[ok].tolist(), weighted[ok].tolist(), strict=True):
            pair_score.setdefault((a, b), float(s))
    return candidates, matched


def _word_weighted_pass(
    blocks: _Blocks,
    names: Any,
    core: Any,
    idf: dict[str, float],
    rules: dict[str, Any],
    pair_score: dict[tuple[int, int], float],
) -> tuple[int, int]:
    """The fuzzy pass of the word-weighted (company name) matcher, block by block: the names of a
    block all against all in one rapidfuzz ``cdist`` (each name converted once per block, not once
    per pair), the pairs at or above the whole-name ``prefilter`` scored word by word
    (:func:`token_score`), those at ``min_score`` or more matched into ``pair_score``. The same
    pairs and decisions as :func:`_fuzzy_batch` on every candidate pair, without a Python string
    per pair: 511 k accounts have 189 M candidate pairs. Returns (candidate pairs, matched pairs).
    """
    import numpy as np

    tok = rules.get("tokens") or {}
    prefilter = float(tok.get("prefilter", 70))
    floor = float(tok.get("token_floor", 85))
    min_score = float(rules.get("min_score", 90))
    default = max(idf.values(), default=1.0)
    text = names.to_numpy(zero_copy_only=False)
    empty = np.fromiter((not v for v in text), dtype=bool, count=len(text))  # None or ""
    seen: set[tuple[int, int]] = set()
    matched = 0
    for k in range(len(blocks.keys)):
        g, idx = blocks.members(k)
        if not len(g):  # no block of this key (every value unique or empty)
            continue
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        for s, e in zip(starts.tolist(), [*starts[1:].tolist(), len(g)], strict=True):
            members = idx[s:e]
            members = members[~empty[members]]
            if len(members) < 2:
                continue
            a, b = _similar_within(text[members].tolist(), prefilter)
            for x, y in zip(members[a].tolist(), members[b].tolist(), strict=True):
                pair = (x, y) if x < y else (y, x)
                if pair in seen:  # another key's block had it already
                    continue
                seen.add(pair)
                weighted = token_score(core[pair[0]], core[pair[1]], idf, floor, default)
                if weighted >= min_score:
                    matched += 1
                    pair_score.setdefault(pair, weighted)
    return blocks.candidate_count(), matched


# Blocks up to this size are compared as one square; larger ones split in halves (below).
_SQUARE_MAX = 128


def _similar_within(names: list[str], cutoff: float, start: int = 0) -> tuple[Any, Any]:
    """Positions (a < b) of the pairs of ``names`` whose rapidfuzz ``ratio`` reaches ``cutoff``,
    each pair compared once: a block larger than :data:`_SQUARE_MAX` is split in halves, each half
    compared within itself (recursively) and the first against the second, instead of the whole
    square ``cdist`` (which scores every pair twice and each name with itself): the same pairs
    (the ratio is symmetric) for about half the work. ``start``: offset added to the positions."""
    import numpy as np
    from rapidfuzz import fuzz, process

    def cdist(a: list[str], b: list[str]) -> Any:
        return process.cdist(
            a,
            b,
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            dtype=np.float32,
            workers=-1 if len(a) * len(b) > 256 * 256 else 1,
        )

    n = len(names)
    if n <= _SQUARE_MAX:
        a, b = np.nonzero(np.triu(cdist(names, names) >= cutoff, 1))
        return a + start, b + start
    mid = n // 2
    a1, b1 = _similar_within(names[:mid], cutoff, start)
    a2, b2 = _similar_within(names[mid:], cutoff, start + mid)
    a3, b3 = np.nonzero(cdist(names[:mid], names[mid:]) >= cutoff)
    return np.concatenate([a1, a2, a3 + start]), np.concatenate([b1, b2, b3 + start + mid])


def small_site_records(site: Any, max_site: int, among: Any = None) -> Any:
    """Positions (ascending) of the records whose website domain ``site`` (an Arrow string array,
    '' = none) is given by two to ``max_site`` records: a domain one record gives is no evidence,
    one that more give is a platform (a social-media page) or a group's site. ``among`` (a boolean
    mask): only the domains those records give (the few that can be evidence for a pass), counted
    over every record. The one site rule of the account passes that take the same website as
    evidence (:func:`acronym_pairs`, :func:`partial_acronym_pairs`, :func:`descriptor_pairs`,
    :func:`site_name_pairs`)."""
    import numpy as np
    import pyarrow.compute as pc

    given = pc.not_equal(site, "")
    if among is not None:
        given = pc.and_(given, pc.fill_null(among, False))
        if not pc.any(given).as_py():
            return np.empty(0, dtype=np.int64)
        given = pc.fill_null(pc.is_in(site, value_set=pc.unique(site.filter(given))), False)
    counts = pc.value_counts(site.filter(given))
    shared = counts.field("values").filter(
        pc.and_(pc.greater_equal(counts.field("counts"), 2), pc.less_equal(counts.field("counts"), max_site))
    )
    if not len(shared):
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(
        pc.fill_null(pc.is_in(site, value_set=shared), False).to_numpy(zero_copy_only=False)
    )


def acronym_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float] | None = None,
) -> dict[tuple[int, int], int]:
    """Account pairs (i < j) in which one name is the other's acronym (quality.yaml
    ``account.tokens.acronyms``), each with the position of its acronym record: a one-word core
    ("KATS") equal to the initials of every word of the other record's core ("Kellworth-Ashby
    Technical Solutions Ltd": its legal form, "the" and "and" left out, a hyphen separating
    words), both records giving the same website domain. The initials of the whole core only, so
    a parent and its subsidiary ("... Canada", "... Holding") never share an acronym. Not on a
    domain more than ``max_site_accounts`` records give (a platform such as a social-media page,
    or a group's site: no corroboration), nor when the domain's names with those initials are
    two companies (not matched to each other in ``pair_score``): which one the acronym stands for
    is unknown. ``names``: the raw account names (the hyphens are read from them)."""
    from collections import defaultdict

    import pyarrow as pa
    import pyarrow.compute as pc

    tokens = rules.get("tokens") or {}
    spec = tokens.get("acronyms")
    if not spec or "website_domain" not in norm.column_names:
        return {}
    min_letters = int(spec.get("min_letters", 2))
    max_site = int(spec.get("max_site_accounts", 10))
    core = _one_array(norm.column("name_core"))
    site = _one_array(norm.column("website_domain"))
    # a record that can be an acronym: a one-word core of min_letters or more, with a website;
    # only the records of those websites are read in Python (1,227 of the 1 M demo org's 511 k
    # accounts have such a name; none is another's acronym: 0.05 CPU-s)
    short = pc.and_(
        pc.and_(pc.not_equal(site, ""), pc.invert(pc.match_substring(core, " "))),
        pc.greater_equal(pc.utf8_length(core), min_letters),
    )
    idx = small_site_records(site, max_site, among=short)
    if len(idx) < 2:
        return {}
    take = pa.array(idx)
    sites = site.take(take).to_pylist()
    cores = core.take(take).to_pylist()
    words = [
        w.split()
        for w in account_name_core(_str(names).take(take), suffixes, tokens, word_breaks=True)[1].to_pylist()
    ]
    per_site: dict[str, list[int]] = defaultdict(list)
    for k, s in enumerate(sites):
        per_site[s].append(k)
    matched = pair_score or {}
    out: dict[tuple[int, int], int] = {}
    for members in per_site.values():
        named: dict[str, list[int]] = defaultdict(list)  # initials -> records of that full name
        for k in members:
            if len(words[k]) >= max(2, min_letters):
                named["".join(w[0] for w in words[k])].append(k)
        for k in members:
            full = [m for m in named.get(cores[k], []) if m != k] if " " not in cores[k] else []
            if not full:
                continue
            rows = [int(idx[m]) for m in full]
            distinct = {cores[m].replace(" ", ""): r for m, r in zip(full, rows, strict=True)}
            if any(
                (min(a, b), max(a, b)) not in matched for a, b in itertools.combinations(distinct.values(), 2)
            ):
                continue  # two companies on one website with those initials: ambiguous
            for r in rows:
                out[(min(r, int(idx[k])), max(r, int(idx[k])))] = int(idx[k])
    return out


def _partial_acronym(short: list[str], full: list[str], skip: frozenset[str], used: bool = False) -> bool:
    """Whether ``short``'s words are ``full``'s, each the same word or the initials of a run of two
    or more of its words (those in ``skip`` left out or not): "almagro ti" / "almagro tecnologias de
    la informacion", "pb zorza" / "przedsiebiorstwo budowlane zorza"). At least one acronym (the
    caller asks for a word in common)."""
    if not short or not full:
        return not short and not full and used
    head, rest = short[0], short[1:]
    if head == full[0] and _partial_acronym(rest, full[1:], skip, used):
        return True
    for n in range(2, len(full) + 1):
        run = full[:n]
        for letters in ("".join(w[0] for w in run), "".join(w[0] for w in run if w not in skip)):
            if letters == head and len(head) >= 2 and _partial_acronym(rest, full[n:], skip, True):
                return True
    return False


def partial_acronym_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
) -> dict[tuple[int, int], int]:
    """Account pairs (i < j) on the same website domain (at most ``acronyms.max_site_accounts``
    records) in which one core writes some of the other's words as their initials and the rest
    as they are (:func:`_partial_acronym`; ``acronyms.partial``, ``acronyms.skip_words``: words an
    acronym may leave out, "de", "la"), with the position of the acronym record. Not when the
    acronym fits two names on the website that no other pass matched (ambiguous)."""
    from collections import defaultdict

    import pyarrow as pa

    tokens = rules.get("tokens") or {}
    spec = tokens.get("acronyms") or {}
    if not spec.get("partial") or "website_domain" not in norm.column_names:
        return {}
    max_site = int(spec.get("max_site_accounts", 10))
    skip = frozenset(str(w) for w in spec.get("skip_words") or [])
    site = _one_array(norm.column("website_domain"))
    idx = small_site_records(site, max_site)
    if not len(idx):
        return {}
    take = pa.array(idx)
    sites = site.take(take).to_pylist()
    cores = _one_array(norm.column("name_core")).take(take).to_pylist()
    words = [
        w.split()
        for w in account_name_core(_str(names).take(take), suffixes, tokens, word_breaks=True)[1].to_pylist()
    ]
    per_site: dict[str, list[int]] = defaultdict(list)
    for k, s_ in enumerate(sites):
        per_site[s_].append(k)
    forms: dict[int, list[str]] = {}

    def form(m: int) -> list[str]:  # the canonical legal form's words ("corp")
        if m not in forms:
            forms[m] = legal_forms(names, [int(idx[m])], suffixes, tokens)[int(idx[m])].split()
        return forms[m]

    out: dict[tuple[int, int], int] = {}
    for members in per_site.values():
        for k in members:
            if len(words[k]) < 2:  # a one-word acronym: acronym_pairs
                continue
            full = [
                m
                for m in members
                if m != k
                and len(words[m]) > len(words[k])
                and bool(set(words[k]) & set(words[m]))
                and (
                    _partial_acronym(words[k], words[m], skip)
                    # the legal form's initial too ("Westmere REMC" / "... Membership Corporation")
                    or (
                        spec.get("legal_form_initial")
                        and _partial_acronym(words[k], words[m] + form(m), skip)
                    )
                )
            ]
            if not full:
                continue
            rows = [int(idx[m]) for m in full]
            if not _unambiguous(rows, {int(idx[m]): cores[m] for m in full}, pair_score):
                continue
            for r in rows:
                out[(min(r, int(idx[k])), max(r, int(idx[k])))] = int(idx[k])
    return out


def capital_acronym_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
) -> dict[tuple[int, int], int]:
    """Account pairs (i < j) in which one name writes a run of another's words as their initials in
    capitals, in a name that is not all capitals ("Maple Ridge USD" / "Maple Ridge Unified School
    District"), and every other word as it is, one of them four letters or more: one account
    without a website on one side or both (``acronyms.capitals``: the least letters, 0 = never).
    Not when the websites disagree or the legal forms differ, nor when the acronym fits two
    companies' names; with the position of the acronym record."""
    import re

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    tokens = rules.get("tokens") or {}
    spec = tokens.get("acronyms") or {}
    lo = int(spec.get("capitals") or 0)
    if not lo:
        return {}
    raw = _str(names)
    capitals = rf"(^|[\s(])[A-Z]{{{lo},6}}([\s),]|$)"
    hit = pc.and_(
        pc.fill_null(pc.match_substring_regex(raw, capitals), False),
        pc.fill_null(pc.match_substring_regex(raw, r"\p{Ll}"), False),
    )
    idx = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    if not len(idx):
        return {}
    skip = frozenset(str(w) for w in spec.get("skip_words") or [])
    word = re.compile(rf"(?<![\w-])([A-Z]{{{lo},6}})(?![\w-])")
    short: dict[int, tuple[list[str], set[str]]] = {}
    cores = account_name_core(raw.take(pa.array(idx)), suffixes, tokens, word_breaks=True)[1].to_pylist()
    for k, name, c in zip(idx.tolist(), raw.take(pa.array(idx)).to_pylist(), cores, strict=True):
        words = (c or "").split()
        acr = {w.lower() for w in word.findall(name or "")} & set(words)
        if acr and any(w not in acr and len(w) >= 4 for w in words):
            short[k] = (words, acr)
    if not short:
        return {}
    core = _one_array(norm.column("name_core"))
    heads = pa.array(sorted({w[0] for w, _a in short.values()}), pa.string())
    first = pc.replace_substring_regex(pc.replace_substring(core, "-", " "), r" .*$", "")
    cand = np.flatnonzero(
        pc.fill_null(pc.is_in(first, value_set=heads), False).to_numpy(zero_copy_only=False)
    )
    full_words = dict(
        zip(
            cand.tolist(),
            (
                (c or "").split()
                for c in account_name_core(raw.take(pa.array(cand)), suffixes, tokens, word_breaks=True)[
                    1
                ].to_pylist()
            ),
            strict=True,
        )
    )
    site = _one_array(norm.column("website_domain")) if "website_domain" in norm.column_names else None
    site_of = dict(zip(cand.tolist(), site.take(pa.array(cand)).to_pylist(), strict=True)) if site else {}
    core_of = dict(zip(cand.tolist(), core.take(pa.array(cand)).to_pylist(), strict=True))
    out: dict[tuple[int, int], int] = {}
    for k, (words, acr) in short.items():
        rows = [
            m
            for m, fw in full_words.items()
            if m != k
            and len(fw) >= len(words) + 2
            and not (site_of.get(k) and site_of.get(m))
            and _capital_acronym(words, fw, acr, skip)
        ]
        if not rows or not _unambiguous(rows, core_of, pair_score):
            continue
        form = legal_forms(names, [k, *rows], suffixes, tokens)
        for m in rows:
            if not (form[k] and form[m] and form[k] != form[m]):
                out[(min(k, m), max(k, m))] = k
    return out


def _capital_acronym(short: list[str], full: list[str], acr: set[str], skip: frozenset[str]) -> bool:
    """Whether ``short``'s words are ``full``'s, each the same word or, for the words in ``acr``,
    the initials of a run of two or more of its words (:func:`_partial_acronym`)."""
    return all(w in acr or w in full for w in short) and _partial_acronym(short, full, skip)


def _match_acronyms(
    norm: pa.Table,
    tbl: pa.Table,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
) -> dict[tuple[int, int], int]:
    """The acronym pairs (:func:`acronym_pairs`) no other pass matched, added to ``pair_score`` at
    ``min_score``."""
    found = acronym_pairs(norm, tbl.column("name"), rules, suffixes, pair_score)
    found.update(partial_acronym_pairs(norm, tbl.column("name"), rules, suffixes, pair_score))
    for pair, k in capital_acronym_pairs(norm, tbl.column("name"), rules, suffixes, pair_score).items():
        found.setdefault(pair, k)
    new = {pair: k for pair, k in found.items() if pair not in pair_score}
    for pair in new:
        pair_score[pair] = float(rules.get("min_score", 90))
    return new


_TRANSLIT = (("ae", "a"), ("oe", "o"), ("ue", "u"))  # ä / ö / ü written out: "eisenhuette"


def _translit(arr: Any) -> Any:
    """ "ae", "oe", "ue" as "a", "o", "u" (a Python string or an Arrow array of them)."""
    import pyarrow.compute as pc

    for two, one in _TRANSLIT:
        arr = arr.replace(two, one) if isinstance(arr, str) else pc.replace_substring(arr, two, one)
    return arr


def _unambiguous(rows: list[int], core: list[str], pair_score: dict[tuple[int, int], float]) -> bool:
    """Whether ``rows`` are one company: one core (spaces aside), or every two already matched."""
    distinct = {core[r].replace(" ", ""): r for r in rows}
    return all((min(a, b), max(a, b)) in pair_score for a, b in itertools.combinations(distinct.values(), 2))


def _cut_start(cut: list[str], full: list[str], whole: bool) -> bool:
    """Whether the words of a cut name start ``full``'s words: each the same word or, of three
    letters or more, its start (shortened to fit the field: "art" / "artistica"); the last word
    also shorter when it was cut (not ``whole``)."""
    if len(cut) > len(full):
        return False
    for n, (a, b) in enumerate(zip(cut, full, strict=False)):
        if a == b:
            continue
        if not b.startswith(a) or (len(a) < 3 and (whole or n < len(cut) - 1)):
            return False
    return True


def truncated_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
) -> set[tuple[int, int]]:
    """Account pairs (i < j) in which one name was cut at a field length (quality.yaml
    ``account.tokens.cut_lengths``: the raw name, trimmed, exactly that long) and its core starts
    the other's core ("ALMAGRO TECNOLOGIAS DE LA INFO" / "Almagro Tecnologías de la Información,
    S.A.": its last word may be cut; a word of three letters or more may be shortened to fit,
    "VETRERIA ART CA ..." / "Vetreria Artistica Ca' ..."), a last word that is the start of a legal form left out
    ("... AKTIENG" / "... AG"); "ae", "oe", "ue" compare as "a", "o", "u". Not when the two
    websites disagree, nor when the cut name starts two records' cores that no other pass matched
    to each other (which one it was cut from is unknown). At least two words must be left."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    lengths = sorted({int(x) for x in (rules.get("tokens") or {}).get("cut_lengths") or []})
    if not lengths:
        return set()
    length = pc.utf8_length(pc.utf8_trim_whitespace(_str(names)))
    cut_mask = pc.fill_null(pc.is_in(length, value_set=pa.array(lengths, length.type)), False)
    cut_idx = np.flatnonzero(cut_mask.to_numpy(zero_copy_only=False))
    if not len(cut_idx):  # the 1 M demo org: no account name at a cut length
        return set()
    core = _one_array(norm.column("name_core"))
    site = _one_array(norm.column("website_domain")) if "website_domain" in norm.column_names else None
    legal = {w for form in (*suffixes, *suffixes.values()) for w in str(form).split()}
    forms: dict[int, tuple[str, bool]] = {}  # cut record -> (its core's leading words, whole words)
    for k, c in zip(cut_idx.tolist(), core.take(pa.array(cut_idx)).to_pylist(), strict=True):
        words = (c or "").split()
        whole = False
        if len(words) > 1 and words[-1] not in legal and any(w.startswith(words[-1]) for w in legal):
            words, whole = words[:-1], True  # "... aktieng": the legal form was cut
        if len(words) >= 2:
            forms[k] = (_translit(" ".join(words)), whole)
    if not forms:
        return set()
    tcore = _translit(core)
    heads = pa.array(sorted({f[:3] for f, _ in forms.values()}), pa.string())
    cand = np.flatnonzero(
        pc.fill_null(pc.is_in(pc.utf8_slice_codeunits(tcore, 0, 3), value_set=heads), False).to_numpy(
            zero_copy_only=False
        )
    )
    texts = tcore.take(pa.array(cand)).to_pylist()
    sites = site.take(pa.array(cand)).to_pylist() if site is not None else [""] * len(cand)
    site_of = dict(zip(cand.tolist(), sites, strict=True))
    cores = dict(zip(cand.tolist(), core.take(pa.array(cand)).to_pylist(), strict=True))
    out: set[tuple[int, int]] = set()
    for k, (form, whole) in forms.items():
        rows = [
            int(m)
            for m, t in zip(cand.tolist(), texts, strict=True)
            if m != k
            and _cut_start(form.split(), t.split(), whole)
            and not (site_of[k] and site_of[m] and site_of[k] != site_of[m])
        ]
        if rows and _unambiguous(rows, cores, pair_score):
            out |= {(min(k, m), max(k, m)) for m in rows}
    return out


def descriptor_pairs(norm: pa.Table, rules: dict[str, Any]) -> set[tuple[int, int]]:
    """Account pairs (i < j) of a name with a trade descriptor after it (quality.yaml
    ``account.tokens.trade_descriptors``: "Dunmore & Pryce Solicitors LLP") and the name without
    it ("Dunmore & Pryce") on the same website domain, and the name with it and every record of
    the same core as the one without it whose website does not disagree ("DUNMORE AND PRYCE LLP",
    no website). Not on a domain more than ``acronyms.max_site_accounts`` records give, nor when
    the domain holds two names with other descriptors (two firms)."""
    from collections import defaultdict

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    tokens = rules.get("tokens") or {}
    words = sorted(
        {re_escape(str(w)) for w in tokens.get("trade_descriptors") or []}, key=lambda w: (-len(w), w)
    )
    if not words or "website_domain" not in norm.column_names:
        return set()
    max_site = int((tokens.get("acronyms") or {}).get("max_site_accounts", 10))
    core = _one_array(norm.column("name_core"))
    site = _one_array(norm.column("website_domain"))
    pattern = rf" ({'|'.join(words)})$"
    has = pc.and_(pc.fill_null(pc.match_substring_regex(core, pattern), False), pc.not_equal(site, ""))
    if not pc.any(has).as_py():
        return set()
    # the records with a descriptor on a website two to max_site records give (with its bare name
    # on it, when a pair is to come)
    on_small = np.zeros(len(site), dtype=bool)
    on_small[small_site_records(site, max_site, among=has)] = True
    with_idx = np.flatnonzero(has.to_numpy(zero_copy_only=False) & on_small)
    if not len(with_idx):
        return set()
    bare_all = pc.replace_substring_regex(core, pattern, "")
    bare = bare_all.take(pa.array(with_idx)).to_pylist()
    # the records whose core is one of those bare names (the name without the descriptor)
    same = np.flatnonzero(
        pc.fill_null(pc.is_in(core, value_set=pa.array(sorted(set(bare)), pa.string())), False).to_numpy(
            zero_copy_only=False
        )
    )
    same_cores = core.take(pa.array(same)).to_pylist()
    same_sites = site.take(pa.array(same)).to_pylist()
    by_core: dict[str, list[int]] = defaultdict(list)
    for m, c in zip(same.tolist(), same_cores, strict=True):
        by_core[c].append(m)
    site_of = dict(zip(same.tolist(), same_sites, strict=True))
    wsites = site.take(pa.array(with_idx)).to_pylist()
    wcores = core.take(pa.array(with_idx)).to_pylist()
    firms: dict[tuple[str, str], set[str]] = defaultdict(set)  # (site, bare) -> cores with a descriptor
    for b, s, c in zip(bare, wsites, wcores, strict=True):
        firms[(s, b)].add(c)
    out: set[tuple[int, int]] = set()
    for k, b, s in zip(with_idx.tolist(), bare, wsites, strict=True):
        if len(firms[(s, b)]) > 1:
            continue
        rows = by_core.get(b, [])
        if not any(site_of[m] == s for m in rows):  # the bare name on this website: the evidence
            continue
        out |= {(min(k, m), max(k, m)) for m in rows if site_of[m] in ("", s)}
    return out


def _site_word_agrees(a: str, b: str, abbreviated: bool, spec: dict[str, Any]) -> bool:
    """Whether two words of names on one website are one word: equal, a translation of the other
    (``same_site.translations``) or, where ``abbreviated`` may be, one written as the other's first
    ``abbreviation_min_letters`` to ``abbreviation_max_letters`` letters ("gen" / "general")."""
    if a == b:
        return True
    trans = spec.get("translations") or {}
    if b in (trans.get(a) or ()) or a in (trans.get(b) or ()):
        return True
    short, full = (a, b) if len(a) < len(b) else (b, a)
    if _contraction(short, full, int(spec.get("contraction_max_letters") or 0)):
        return True
    if spec.get("plurals") and _plural_of(full, short):  # "facilities" / "facility"
        return True
    if not abbreviated:
        return False
    lo, hi = int(spec.get("abbreviation_min_letters", 3)), int(spec.get("abbreviation_max_letters", 5))
    return lo <= len(short) <= hi and short.isalpha() and full.startswith(short)


def _sorted_words(core: str | None) -> str | None:
    """A core's words in alphabetical order without "of" / "for" ("court delmore county superior"
    for "superior court of delmore county"): a name and its inverted form share it."""
    if not core or " " not in core:
        return core
    return " ".join(sorted(w for w in core.split() if w not in {"of", "for"}))


def _plural_of(long: str, short: str) -> bool:
    """Whether ``long`` is the English plural of ``short`` ("facilities" / "facility", "services" /
    "service", "boxes" / "box"), ``short`` four letters or more."""
    if len(short) < 4:
        return False
    return long in (short + "s", short + "es") or (short.endswith("y") and long == short[:-1] + "ies")


def _contraction(short: str, full: str, most: int) -> bool:
    """Whether ``short`` (two to ``most`` letters) is ``full`` written as a contraction: its first and
    last letter and some of the letters between, in order, two letters or more left out ("schl" /
    "school", "pt" / "point", "mgmt" / "management"; not "lab" / "labels")."""
    if not 2 <= len(short) <= most or len(full) < len(short) + 2 or not short.isalpha():
        return False
    if short[0] != full[0] or short[-1] != full[-1]:
        return False
    rest = iter(full[1:-1])
    return all(ch in rest for ch in short[1:-1])


def _joined_as(a: list[str], b: list[str]) -> list[str]:
    """``a``'s words with two neighbours joined where ``b`` writes them as one word ("red hollow
    vet clinic" beside "redhollow veterinary clinic": "redhollow vet clinic")."""
    whole = set(b)
    out: list[str] = []
    for w in a:
        if out and out[-1] + w in whole and out[-1] not in whole:
            out[-1] += w
        else:
            out.append(w)
    return out


def _site_words_agree(a: list[str], b: list[str], spec: dict[str, Any]) -> bool:
    """Whether two names' words (cores, a hyphen separating words) on one website are one
    company's (quality.yaml ``account.tokens.same_site``): as many words, one of three letters or
    more equal, and every word, in order, equal, translated, or (not the last word) abbreviated;
    or (``word_order``) the same words, translated or not, in another order."""
    a, b = _joined_as(a, b), _joined_as(b, a)
    if len(a) != len(b) or not any(x == y and len(x) >= 3 for x, y in itertools.product(a, b)):
        return False
    last = len(a) - 1
    if all(_site_word_agrees(x, y, n < last, spec) for n, (x, y) in enumerate(zip(a, b, strict=True))):
        return True
    if not spec.get("word_order"):
        return False
    rest = list(b)
    for x in a:
        hit = next((k for k, y in enumerate(rest) if _site_word_agrees(x, y, False, spec)), None)
        if hit is None:
            return False
        del rest[hit]
    return True


def legal_forms(
    names: Any, rows: list[int], suffixes: dict[str, str], tokens: dict[str, Any]
) -> dict[int, str]:
    """The canonical legal form each of ``rows``' account names ends with ("sa de cv", "gmbh"; ''
    = none)."""
    import re

    import pyarrow as pa

    if not rows:
        return {}
    canon = "|".join(sorted({re_escape(v) for v in suffixes.values()}, key=lambda v: (-len(v), v)))
    ends = re.compile(rf"(?:^| )((?:(?:{canon})(?: |$))+)$")
    normed = account_name_core(_str(names).take(pa.array(rows, pa.int64())), suffixes, tokens)[0].to_pylist()
    out: dict[int, str] = {}
    for r, v in zip(rows, normed, strict=True):
        found = ends.search(v or "")
        out[r] = found.group(1).strip() if found else ""
    return out


@dataclass
class _SiteNames:
    """The records of the websites two to ``acronyms.max_site_accounts`` records give whose names
    have two cores or more (the only ones a same-website pass can pair): ``idx`` their positions
    among the small-site records ``small``, ``todo`` those positions per website, ``words`` each
    one's core words (a hyphen separating words, ae / oe / ue as a / o / u), ``compacts`` the
    cores without spaces (the name_compact key)."""

    small: Any
    compact: Any
    compacts: list[str]
    todo: list[list[int]]
    keep: list[int]
    words: dict[int, list[str]]
    names: Any
    suffixes: dict[str, str]
    tokens: dict[str, Any]
    _legal: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, norm: pa.Table, names: Any, tokens: dict[str, Any], suffixes: dict[str, str]
    ) -> _SiteNames | None:
        from collections import defaultdict

        import pyarrow as pa
        import pyarrow.compute as pc

        if "website_domain" not in norm.column_names:
            return None
        max_site = int((tokens.get("acronyms") or {}).get("max_site_accounts", 10))
        site = _one_array(norm.column("website_domain"))
        idx = small_site_records(site, max_site)
        if not len(idx):
            return None
        take = pa.array(idx)
        compact = pc.replace_substring(_one_array(norm.column("name_core")), " ", "")
        sites = site.take(take).to_pylist()
        compacts = compact.take(take).to_pylist()
        per_site: dict[str, list[int]] = defaultdict(list)
        for k, s_ in enumerate(sites):
            per_site[s_].append(k)
        # only the websites whose records give two cores or more (the 1 M demo org: ...)
        todo = [m for m in per_site.values() if len({compacts[k] for k in m}) > 1]
        if not todo:
            return None
        keep = sorted(k for m in todo for k in m)
        core_words = account_name_core(
            _str(names).take(pa.array(idx[keep])), suffixes, tokens, word_breaks=True
        )[1]
        words = dict(zip(keep, (_translit(w).split() for w in core_words.to_pylist()), strict=True))
        return cls(idx, compact, compacts, todo, keep, words, names, suffixes, tokens)

    def record(self, k: int) -> int:
        """The record (row) at position ``k``."""
        return int(self.small[k])

    def unambiguous_pairs(
        self,
        rows_of: dict[int, list[int]],
        cores: dict[int, str],
        pair_score: dict[tuple[int, int], float],
        norm: pa.Table,
    ) -> set[tuple[int, int]]:
        """Each record of ``rows_of`` paired with its rows when those are one company (one core,
        or every two matched: :func:`_unambiguous`), with the pairs' website-less twins."""
        found: set[tuple[int, int]] = set()
        for k, rows in rows_of.items():
            if _unambiguous(rows, cores, pair_score):
                found |= {(min(k, r), max(k, r)) for r in rows}
        return self.with_twins(found, norm, pair_score)

    def with_twins(
        self, found: set[tuple[int, int]], norm: pa.Table, pair_score: dict[tuple[int, int], float]
    ) -> set[tuple[int, int]]:
        """``found`` and, for each pair, every record that gives no website and is one end's twin
        paired with the other end: the pair's evidence (the website) is theirs too. A twin: the
        end's core (spaces aside, ae / oe / ue as a / o / u: "MUELLER & SOEHNE" / "Müller &
        Söhne"), or a record an earlier pass matched to the end."""
        from collections import defaultdict

        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if not found:
            return found
        site = _one_array(norm.column("website_domain"))
        compact = _translit(self.compact)
        cores = {self.record(k): _translit(self.compacts[k]) for k in self.keep}
        end_cores = {r: cores[r] for r in sorted({x for p in found for x in p})}
        no_site = pc.fill_null(pc.equal(site, ""), False)
        twins = np.flatnonzero(
            pc.and_(
                pc.fill_null(
                    pc.is_in(compact, value_set=pa.array(sorted(set(end_cores.values())), pa.string())), False
                ),
                no_site,
            ).to_numpy(zero_copy_only=False)
        )
        by_end: dict[int, set[int]] = defaultdict(set)
        by_core: dict[str, list[int]] = defaultdict(list)
        for t, c in zip(twins.tolist(), compact.take(pa.array(twins)).to_pylist(), strict=True):
            by_core[c].append(t)
        for r, c in end_cores.items():
            by_end[r].update(by_core.get(c, []))
        without = no_site.to_numpy(zero_copy_only=False)
        for x, y in pair_score:  # the records an earlier pass matched to an end
            if x in end_cores and without[y]:
                by_end[x].add(y)
            if y in end_cores and without[x]:
                by_end[y].add(x)
        out = set(found)
        for a, b in found:
            out |= {(min(a, t), max(a, t)) for t in by_end[b] if t != a}
            out |= {(min(b, t), max(b, t)) for t in by_end[a] if t != b}
        return out

    def marked(self, folded: dict[int, str]) -> set[int]:
        """Of the positions in ``folded`` (position -> folded raw name), those whose record is a
        subsidiary's, a branch's or another entity's (a bracket, a dash, a country, region or
        state, a word of ``same_site.extended_names.distinguishing_words``, a leading group word)."""
        import re

        spec = self.tokens.get("same_site") or {}
        ext = spec.get("extended_names") or {}
        places, other = _place_sets(ext)
        other |= frozenset(str(w) for w in ext.get("distinguishing_words") or [])
        groups = frozenset(str(w) for w in spec.get("group_words") or [])  # "Grupo Olmeda": the group
        phrases = [f" {p} " for p in places if " " in p]

        def other_entity(words: list[str]) -> bool:
            said = f" {' '.join(words)} "
            return bool(
                set(words) & other
                or any(p in said for p in phrases)  # "... United States"
                or (len(words) > 1 and words[0] in groups)
                or "group" in words[:-1]  # a group's services company, not "X Group"
            )

        return {
            k
            for k, r in folded.items()
            if re.search(r"[(\[|]| [-–—] ", r or "") or other_entity(self.words[k])
        }

    def legal_form(self, k: int) -> str:
        """The canonical legal form position ``k``'s name ends with ("sa de cv"; '' = none)."""
        if not self._legal:  # every kept position's at once: one Arrow pass, not one per record
            forms = legal_forms(self.names, [self.record(m) for m in self.keep], self.suffixes, self.tokens)
            self._legal.update({m: forms[self.record(m)] for m in self.keep})
        return self._legal[k]


def site_name_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
    site_names: _SiteNames | None = None,
) -> set[tuple[int, int]]:
    """Account pairs (i < j) that the same website domain makes one company's (quality.yaml
    ``account.tokens.same_site``; a domain two to ``acronyms.max_site_accounts`` records give:
    :func:`small_site_records`): names whose cores' words agree (:func:`_site_words_agree`: "Al
    Rimthan Gen. Trading" / "Al-Rimthan General Trading", "Qingyuan Valve (Hangzhou)" /
    "Hangzhou Qingyuan Valve", "Yamabuki Precision Industry" / "Yamabuki Seimitsu Kogyo"), or
    whose cores agree after a leading group word (``group_words``) dropped from one of them, two
    words or more left and the legal forms not different ("Grupo Tezontle Logistica S.A. de C.V."
    / "Tezontle Logistica SA de CV"). Then, like :func:`descriptor_pairs`, each record of such a
    pair with every record of the same core as the other that gives no website (the evidence is the
    other's). Not when a name agrees so with two names of the website that no other pass matched
    to each other (which company it is is unknown)."""

    tokens = rules.get("tokens") or {}
    spec = tokens.get("same_site")
    sn = (site_names or _SiteNames.of(norm, names, tokens, suffixes)) if spec else None
    if sn is None or not spec:
        return set()
    idx, compacts, words = sn.small, sn.compacts, sn.words
    groups = frozenset(str(w) for w in spec.get("group_words") or [])
    legal_form = sn.legal_form

    def agree(k: int, m: int) -> bool:
        a, b = words[k], words[m]
        if _site_words_agree(a, b, spec):
            return True
        for x, y, kx, ky in ((a, b, k, m), (b, a, m, k)):
            if (
                len(x) >= 3
                and x[0] in groups
                and (not y or y[0] not in groups)
                and _site_words_agree(x[1:], y, spec)
            ):
                lx, ly = legal_form(kx), legal_form(ky)
                return not (lx and ly and lx != ly)
        return False

    cores = {int(idx[k]): compacts[k] for k in sn.keep}
    agreeing: dict[int, list[int]] = {}  # record -> the records of its website its name agrees with
    for members in sn.todo:
        for k in members:
            rows = [int(idx[m]) for m in members if m != k and compacts[m] != compacts[k] and agree(k, m)]
            if rows:
                agreeing[int(idx[k])] = rows
    # a name that agrees with two companies of the website (not matched to each other): none of its
    # pairs, from either side ("Gen." for both "General" and "Generator")
    ambiguous = {k for k, rows in agreeing.items() if not _unambiguous(rows, cores, pair_score)}
    found = {(min(k, r), max(k, r)) for k, rows in agreeing.items() for r in rows if not {k, r} & ambiguous}
    if not found:
        return found
    return sn.with_twins(found, norm, pair_score)


def _name_start(a: list[str], b: list[str]) -> int:
    """How many of ``b``'s words ``a`` (shorter) starts: its words written together or apart
    ("vantagepoint" / "vantage point"), its last word of three letters or more may be that
    word's start ("bio" / "biosciences"); 0: none."""
    whole = "".join(a)
    joined = ""
    for j, w in enumerate(b[:-1], 1):
        joined += w
        # the words' ae / oe / ue were read as a / o / u one by one; written together, across
        # the join too ("costabravaevents": "...brava" + "events")
        if whole in (joined, _translit(joined)):
            return j
        if len(_translit(joined)) >= len(whole):
            break
    n = len(a)
    if n <= len(b) and a[:-1] == b[: n - 1] and len(a[-1]) >= 3 and b[n - 1].startswith(a[-1]):
        return n if a[-1] != b[n - 1] else 0
    return 0


def _place_sets(ext: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """(place names, one-word place names) of ``same_site.extended_names``: the CLDR territories
    of ``territory_locales``, ``region_words`` and ``region_names`` (states, provinces)."""
    places, words = territory_words(tuple(str(x) for x in ext.get("territory_locales") or []))
    names = {" ".join(str(x).lower().split()) for x in ext.get("region_names") or []}
    words = (
        words | frozenset(str(w) for w in ext.get("region_words") or []) | {n for n in names if " " not in n}
    )
    return places | frozenset(names), words


@functools.lru_cache(maxsize=8)
def territory_words(locales: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(names, words) of the countries and regions CLDR names in ``locales`` (Babel), folded to
    lower-case ASCII ("Österreich" -> "osterreich", "Polska", "Sverige", "United States"): a name
    with such a word more is a country subsidiary's or a region's ("... Polska", "... Nordic")."""
    from babel import Locale
    from text_unidecode import unidecode

    names: set[str] = set()
    for loc in locales:
        for name in Locale.parse(loc).territories.values():
            folded = " ".join("".join(ch if ch.isalnum() else " " for ch in unidecode(name).lower()).split())
            if folded:
                names.add(_translit(folded))
    return frozenset(names), frozenset(n for n in names if " " not in n)


def extended_name_site_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
    site_names: _SiteNames | None = None,
) -> set[tuple[int, int]]:
    """Account pairs (i < j) of a name and the same name with one to ``max_extra_words`` words
    more after it on the same website domain (one two to ``acronyms.max_site_accounts`` records
    give): "Meridian Freight" / "Meridian Freight Systems Inc", "Orchid Bay Dental" / "Orchid Bay
    Dental Group PLLC" (quality.yaml ``account.tokens.same_site.extended_names``: the form a CRM
    takes from the domain or a rep types, beside the registered one). Never when a word more names
    another entity (``distinguishing_words``: a holding, a foundation, "Group Services"), a country
    or a region (CLDR territory names in ``territory_locales``, and ``region_words``), when the
    longer name puts its words more in brackets or after a dash (a branch or a franchise's
    location: "Millbrook Dental (Ashford)"), when the two names end in different legal forms
    ("... GmbH" / "... Benelux B.V."), nor when the shorter name starts two companies' names on the
    website that no other pass matched to each other."""
    import re

    import pyarrow as pa

    tokens = rules.get("tokens") or {}
    ext = (tokens.get("same_site") or {}).get("extended_names")
    if ext and not ext.get("match", True):
        return set()
    sn = (site_names or _SiteNames.of(norm, names, tokens, suffixes)) if ext else None
    if sn is None or not ext:
        return set()
    words = sn.words
    raw = dict(zip(sn.keep, _str(names).take(pa.array(sn.small[sn.keep])).to_pylist(), strict=True))
    distinguishing = frozenset(
        str(w) for w in [*(ext.get("distinguishing_words") or []), *(ext.get("unit_words") or [])]
    )
    places, place_words = _place_sets(ext)
    max_extra = int(ext.get("max_extra_words", 3))
    subsidiary_starts = frozenset(str(w) for w in ext.get("subsidiary_words_first") or [])

    site_part = re.compile(r"^(.*?\S)\s*(?:[-–—]\s+|\()(.+?)\)?\s*$")
    entity: dict[int, list[str] | None] = {}

    def entity_words(long: int) -> list[str] | None:
        """The core words of a name written "<registered name with its legal form> - <site>" or
        "... (<site>)" ("BRENWICK FOODS INC - PLANT 2 SIOUX CENTER": a plant or a ship-to of that
        legal entity), when the site part names no country, region or other entity; else None."""
        if long not in entity:
            entity[long] = None
            m = site_part.match(str(raw[long] or ""))
            if m and ext.get("site_after_legal_form"):
                head = pa.array([m.group(1)], pa.string())
                site_name = _translit(fold(pa.array([m.group(2)], pa.string()))[0].as_py() or "")
                said = str(strip_punct(pa.array([site_name], pa.string()))[0].as_py() or "").split()
                if (
                    legal_forms(head, [0], suffixes, tokens)[0]
                    and not set(said) & (distinguishing | place_words)
                    and not any(f" {p} " in f" {' '.join(said)} " for p in places if " " in p)
                ):
                    core_words = account_name_core(head, suffixes, tokens, word_breaks=True)[1][0].as_py()
                    entity[long] = _translit(core_words or "").split() or None
        return entity[long]

    def extends(short: int, long: int) -> bool:
        a, b = words[short], words[long]
        head = entity_words(long)
        if head is not None and head == a:  # the legal entity's plant or site on its website
            la, lb = sn.legal_form(short), sn.legal_form(long)
            return not (la and lb and la != lb)
        if not a or len(a) > len(b) or not any(len(w) >= 3 and not w.isdigit() for w in a):
            return False
        j = _name_start(a, b)
        if not j or len(b) - j > max_extra:
            return False
        extra = b[j:] if "".join(b[:j]) == "".join(a) else b[j - 1 :]
        if any(w in distinguishing or w in place_words for w in extra) or " ".join(extra) in places:
            return False
        if extra and extra[0] in subsidiary_starts:  # "... of Kentucky": a state's or a region's
            return False
        if any(f" {p} " in f" {' '.join(extra)} " for p in places if " " in p):
            return False
        if "group" in b[j - 1 : -1]:  # a group's company ("X Group Services"), not "X Group"
            return False
        if re.search(r"[(\[|]| [-–—] ", str(raw[long] or "")):
            return False
        la, lb = sn.legal_form(short), sn.legal_form(long)
        return not (la and lb and la != lb)

    cores = {sn.record(k): sn.compacts[k] for k in sn.keep}
    longer: dict[int, list[int]] = {}
    for members in sn.todo:
        for k in members:
            rows = [sn.record(m) for m in members if sn.compacts[m] != sn.compacts[k] and extends(k, m)]
            if rows:
                longer[sn.record(k)] = rows
    return sn.unambiguous_pairs(longer, cores, pair_score, norm)


def brand_word_site_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
    site_names: _SiteNames | None = None,
) -> set[tuple[int, int]]:
    """Account pairs (i < j) of two names on one website that share a word the website's domain
    spells ("Lakemont Software Inc." / "Lakemont Cloud, Inc." on lakemont.example; "Hostal Las
    Dunas" / "Hotel Las Dunas Tarifa" on lasdunastarifa.example: quality.yaml
    ``account.tokens.same_site.brand_word``, the word ``min_letters`` or longer): one company under
    two names (renamed, or its registered and its trading name). Not when either record is a
    subsidiary's, a branch's or another entity's (:meth:`_SiteNames.marked`), when the legal forms
    differ, nor when a name fits two companies of the website nothing else matched."""
    import pyarrow as pa

    tokens = rules.get("tokens") or {}
    spec = (tokens.get("same_site") or {}).get("brand_word")
    if not spec:
        return set()
    sn = site_names or _SiteNames.of(norm, names, tokens, suffixes)
    if sn is None:
        return set()
    lo = int(spec.get("min_letters", 4))
    site = _one_array(norm.column("website_domain"))
    rows_ = sorted(sn.keep)
    records = [sn.record(k) for k in rows_]
    folded = dict(zip(rows_, fold(_str(names).take(pa.array(records, pa.int64()))).to_pylist(), strict=True))
    label = {
        k: _translit(str(s_).split(".")[0].replace("-", ""))
        for k, s_ in zip(rows_, site.take(pa.array(records, pa.int64())).to_pylist(), strict=True)
    }
    marked = sn.marked(folded)
    # a group's website ("tidewaygroup.example", "...-holding"): its companies share the brand
    group_site = tuple(str(w) for w in (tokens.get("same_site") or {}).get("group_words") or []) + (
        "holding",
    )
    cores = {sn.record(k): sn.compacts[k] for k in sn.keep}
    units = frozenset(
        str(w) for w in ((tokens.get("same_site") or {}).get("extended_names") or {}).get("unit_words") or []
    )
    brand: dict[int, list[int]] = {}
    for members in sn.todo:
        for k in members:
            if k in marked or any(g in label[k] for g in group_site):
                continue
            own = {w for w in sn.words[k] if len(w) >= lo and w in label[k]}
            rows = [
                sn.record(m)
                for m in members
                if m != k
                and m not in marked
                and not _other_than_site_name(k, m, label[k], sn)
                and not (set(sn.words[k]) ^ set(sn.words[m])) & units
                and sn.compacts[m] != sn.compacts[k]
                and own & set(sn.words[m])
                and not (sn.legal_form(k) and sn.legal_form(m) and sn.legal_form(k) != sn.legal_form(m))
            ]
            if rows:
                brand[sn.record(k)] = rows
    return sn.unambiguous_pairs(brand, cores, pair_score, norm)


def _other_than_site_name(k: int, m: int, label: str, sn: _SiteNames) -> bool:
    """Whether the website's domain spells the whole name of one of two records and the other
    leaves out a word of it that is not its initials: the website is that company's, the other
    name another entity's ("Bellhaven Automation" on bellhavenrobotics.example beside "Bellhaven
    Robotics"; not "Estudio Calaverde" on calaverde.example, nor "ASG Schoonmaak" beside "Arnhemse
    Schoonmaak Groep" on asgschoonmaak.example)."""
    for mine, other in ((k, m), (m, k)):
        if _spells(label, [_translit(w) for w in sn.words[mine]]):
            words, others = sn.words[mine], sn.words[other]
            extra = set(words) - set(others)
            initials = "".join(w[0] for w in others if w)
            if extra and initials not in extra and not _partial_acronym(words, others, frozenset()):
                return True
    return False


def _spells(label: str, words: list[str]) -> bool:
    """Whether a domain label is the words written together, the first whole and each other whole
    or as its initial ("bellhavenrobotics", "brackenfordha": Brackenford Housing Association)."""
    if not words or not label.startswith(words[0]):
        return False

    def rest(at: int, k: int) -> bool:
        if k == len(words):
            return at == len(label)
        w = words[k]
        return (label.startswith(w, at) and rest(at + len(w), k + 1)) or (
            label.startswith(w[0], at) and rest(at + 1, k + 1)
        )

    return rest(len(words[0]), 1)


def domain_named_site_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
    site_names: _SiteNames | None = None,
) -> set[tuple[int, int]]:
    """Account pairs (i < j) of a record named by its website's domain ("redgumhotels.example": a
    company a CRM created from a contact's e-mail domain) and the other records of that website
    (quality.yaml ``account.tokens.same_site.domain_as_name``), when those are one company (one
    core, or every two already matched); a website two to ``acronyms.max_site_accounts`` records
    give; its subsidiaries' and branches' records (a bracket, a dash, a country, a region) aside.
    Not when the website holds two companies nothing else matched (a group's site)."""

    import pyarrow as pa

    tokens = rules.get("tokens") or {}
    if not (tokens.get("same_site") or {}).get("domain_as_name"):
        return set()
    sn = site_names or _SiteNames.of(norm, names, tokens, suffixes)
    if sn is None:
        return set()
    site = _one_array(norm.column("website_domain"))
    rows_ = sorted(sn.keep)
    records = [sn.record(k) for k in rows_]
    raw = fold(_str(names).take(pa.array(records, pa.int64()))).to_pylist()
    sites = site.take(pa.array(records, pa.int64())).to_pylist()
    named = {
        k
        for k, r, s_ in zip(rows_, raw, sites, strict=True)
        if s_
        and (r or "").removeprefix("https://").removeprefix("http://").removeprefix("www.").rstrip("/") == s_
    }
    if not named:
        return set()
    # a subsidiary's or a branch's record on the website (a bracket, a dash, a country or region, a
    # word naming another entity: "Harbourline Hospitality (NZ) Limited") is not the website's own
    # company the domain names
    marked = sn.marked(dict(zip(rows_, raw, strict=True)))
    cores = {sn.record(k): sn.compacts[k] for k in sn.keep}
    company: dict[int, list[int]] = {}  # a domain-named record -> the website's other records
    for members in sn.todo:
        for k in members:
            rows = [sn.record(m) for m in members if m not in named and m not in marked]
            if k in named and rows:
                company[sn.record(k)] = rows
    return sn.unambiguous_pairs(company, cores, pair_score, norm)


def dotted_abbreviation_pairs(
    norm: pa.Table,
    names: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
) -> set[tuple[int, int]]:
    """Account pairs (i < j) in which one name writes words as their start with a full stop
    ("STEIR. GIESSEREI PICHLER GMBH" / "Steirische Gießerei Pichler GmbH", "OFF. MECC. BELLANDI
    SRL" / "Officine Meccaniche Bellandi S.r.l.": quality.yaml ``account.tokens.dotted_abbreviations``,
    the start ``min_letters`` letters or more): as many words in the cores, each the same or, where
    the one name has a full stop after it, the start of the other's; at least one word of three
    letters or more the same and written out in both. Not when the websites disagree or the legal
    forms differ, nor when the name fits two companies that no other pass matched to each other."""
    import re

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    tokens = rules.get("tokens") or {}
    spec = tokens.get("dotted_abbreviations")
    if not spec:
        return set()
    lo = int(spec.get("min_letters", 3))
    raw = _str(names)
    dotted = pc.fill_null(pc.match_substring_regex(raw, rf"(^|\s)\pL{{{lo},}}\.(\s|$)"), False)
    # the abbreviation table's words written as they are ("DIST", "Mgmt"): abbreviations too, the
    # start of another word than the one the table gives ("Sewer Dist" / "Sewer District")
    table = sorted(
        {str(k) for k in (tokens.get("abbreviations") or {}) if len(str(k)) >= lo}
        if spec.get("table_words")
        else set()
    )
    if table:
        alt = "|".join(re_escape(k) for k in table)
        dotted = pc.or_(
            dotted, pc.fill_null(pc.match_substring_regex(raw, rf"(?i)(^|[\s,])({alt})\.?(\s|,|$)"), False)
        )
    idx = np.flatnonzero(dotted.to_numpy(zero_copy_only=False))
    if not len(idx):
        return set()
    core = _one_array(norm.column("name_core"))
    site = _one_array(norm.column("website_domain")) if "website_domain" in norm.column_names else None
    tcore = _translit(core)
    forms: dict[int, tuple[list[str], set[str], list[str]]] = {}
    word = re.compile(rf"(?:^|\s)(\w{{{lo},}})\.(?=\s|$)")
    # the cores with the abbreviations left as written too ("assoc." may be "association", not the
    # table's "associates")
    as_written = account_name_core(raw.take(pa.array(idx)), suffixes, {**tokens, "abbreviations": {}})[1]
    for k, name, c, w0 in zip(
        idx.tolist(),
        _translit(fold(raw.take(pa.array(idx)))).to_pylist(),
        tcore.take(pa.array(idx)).to_pylist(),
        _translit(as_written).to_pylist(),
        strict=True,
    ):
        words, written = (c or "").split(), (w0 or "").split()
        if len(written) != len(words):
            written = words
        short = {w for w in word.findall(name or "") if w in words or w in written}
        short |= {w for w in written if w in table}
        if short and any(w not in short and len(w) >= 3 for w in words):
            forms[k] = (words, short, written)
    if not forms:
        return set()
    heads = pa.array(sorted({w[0][:3] for w, _s, _w in forms.values()}), pa.string())
    cand = np.flatnonzero(
        pc.fill_null(pc.is_in(pc.utf8_slice_codeunits(tcore, 0, 3), value_set=heads), False).to_numpy(
            zero_copy_only=False
        )
    )
    texts = dict(zip(cand.tolist(), tcore.take(pa.array(cand)).to_pylist(), strict=True))
    site_of = dict(zip(cand.tolist(), site.take(pa.array(cand)).to_pylist(), strict=True)) if site else {}
    cores = dict(zip(cand.tolist(), core.take(pa.array(cand)).to_pylist(), strict=True))

    def fits(words: list[str], short: set[str], written: list[str], other: list[str]) -> bool:
        if len(words) != len(other):  # "mid valley mech" / "midvalley mechanical"
            joined = _joined_as(words, other)
            if len(joined) != len(other) or len(written) != len(words):
                return False
            written = _joined_as(written, other)
            words, written = joined, written if len(written) == len(joined) else joined
        if len(words) != len(other) or words == other:
            return False
        return all(
            a == b or any(x in short and b.startswith(x) and len(b) > len(x) for x in (a, w))
            for a, w, b in zip(words, written, other, strict=True)
        )

    out: set[tuple[int, int]] = set()
    for k, (words, short, written) in forms.items():
        rows = [
            m
            for m, t in texts.items()
            if m != k
            and fits(words, short, written, (t or "").split())
            and not (site_of.get(k) and site_of.get(m) and site_of[k] != site_of[m])
        ]
        if not rows or not _unambiguous(rows, cores, pair_score):
            continue
        form = legal_forms(names, [k, *rows], suffixes, tokens)
        out |= {(min(k, m), max(k, m)) for m in rows if not (form[k] and form[m] and form[k] != form[m])}
    return out


def _match_name_forms(
    norm: pa.Table,
    tbl: pa.Table,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
) -> int:
    """The cut-name (:func:`truncated_pairs`) and trade-descriptor (:func:`descriptor_pairs`)
    pairs no other pass matched, added to ``pair_score`` at ``min_score``; how many."""
    found = truncated_pairs(norm, tbl.column("name"), rules, suffixes, pair_score)
    found |= descriptor_pairs(norm, rules)
    tokens = rules.get("tokens") or {}
    sn = _SiteNames.of(norm, tbl.column("name"), tokens, suffixes) if tokens.get("same_site") else None
    if sn is not None:  # the websites' names, worked out once for both same-website passes
        found |= site_name_pairs(norm, tbl.column("name"), rules, suffixes, pair_score, sn)
        found |= extended_name_site_pairs(norm, tbl.column("name"), rules, suffixes, pair_score, sn)
        found |= brand_word_site_pairs(norm, tbl.column("name"), rules, suffixes, pair_score, sn)
        # a domain-named record joins the website's company as the passes above have made it
        matched = {**pair_score, **dict.fromkeys(found, 0.0)}
        found |= domain_named_site_pairs(norm, tbl.column("name"), rules, suffixes, matched, sn)
    found |= dotted_abbreviation_pairs(norm, tbl.column("name"), rules, suffixes, pair_score)
    found |= other_script_site_pairs(norm, rules)
    new = found - set(pair_score)
    for pair in new:
        pair_score[pair] = float(rules.get("min_score", 90))
    return len(new)


def _account_final_pairs(
    core: list[str],
    tbl: pa.Table,
    pair_score: dict[tuple[int, int], float],
    rejected: set[tuple[int, int]],
    trade_groups: list[list[int]],
    matched: int,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    sites: Any = None,
) -> tuple[set[tuple[int, int]], int]:
    """Accounts after every pass: the names of one record's company (a trade-name group) are not
    kept apart by their own names differing; the vetoed pairs (:func:`account_vetoes`) leave
    ``pair_score`` and keep their clusters apart. Returns (rejected, matched); persons (``core``
    None) as they are."""
    if core is None:
        return rejected, matched
    heads = {group[0]: set(group) for group in trade_groups}
    if heads:  # the records the head's first name matched are the same company's too
        for a, b in pair_score:
            if a in heads:
                heads[a].add(b)
            if b in heads:
                heads[b].add(a)
    for members in heads.values():
        rejected -= {(min(a, b), max(a, b)) for a, b in itertools.combinations(sorted(members), 2)}
    vetoed = account_vetoes(core, tbl.column("name"), pair_score, rules, suffixes, sites)
    # a word naming another entity on one side only ("... Foundation"), or two websites and a word
    # of one name the other lacks, unless the two names are one record's (a trade-name group)
    named_apart = _entity_word_pairs(core, pair_score, rules.get("tokens") or {})
    if (rules.get("tokens") or {}).get("other_words_other_sites") and sites is not None:
        named_apart |= _other_words_other_sites(core, pair_score, sites)
    vetoed |= named_apart - {
        (min(a, b), max(a, b)) for m in heads.values() for a, b in itertools.combinations(m, 2)
    }
    for pair in vetoed:
        del pair_score[pair]
    return rejected | vetoed, matched - len(vetoed)


def other_script_site_pairs(norm: pa.Table, rules: dict[str, Any]) -> set[tuple[int, int]]:
    """A name without a Latin letter (Hangul, Han, Thai ...: "(주)한빛소재") and the name its
    website's domain spells ("hanbit-materials.example": "hanbit materials", the core of "Hanbit
    Materials Co., Ltd."): one company (``tokens.same_site.other_script_domain_name``, issue 15,
    round-7 accounts) when the website is given by two to ``acronyms.max_site_accounts`` records,
    exactly one of them in another script and exactly one named as the domain. Never another
    name on that website (a group's regional company), nor a website without such a name."""
    import numpy as np
    import pyarrow.compute as pc

    tokens = rules.get("tokens") or {}
    if not (tokens.get("same_site") or {}).get("other_script_domain_name"):
        return set()
    core = norm.column("name_core")
    other = pc.and_(
        pc.fill_null(pc.match_substring_regex(core, r"\pL"), False),
        pc.invert(pc.fill_null(pc.match_substring_regex(core, r"[a-z]"), False)),
    )
    if not pc.any(other).as_py():
        return set()
    max_site = int((tokens.get("acronyms") or {}).get("max_site_accounts", 10))
    site = norm.column("website_domain")
    rows = small_site_records(site, max_site, among=other)
    by_site: dict[str, list[int]] = {}
    for r, w in zip(rows.tolist(), site.take(rows).to_pylist() if len(rows) else [], strict=True):
        by_site.setdefault(w, []).append(r)
    is_other = np.asarray(other.to_numpy(zero_copy_only=False))
    out: set[tuple[int, int]] = set()
    for domain, members in by_site.items():
        spelt = domain.split(".")[0].replace("-", " ").strip()
        others = [r for r in members if is_other[r]]
        named = [r for r in members if core[r].as_py() == spelt]
        if spelt and len(others) == 1 and len(named) == 1:
            out.add((min(others[0], named[0]), max(others[0], named[0])))
    return out


def trade_name_pairs(
    norm: pa.Table, names: Any, rules: dict[str, Any], suffixes: dict[str, str]
) -> list[list[int]]:
    """Records whose name holds a second name of the company (:class:`_TradeNameSplitter`: "X
    d/b/a Y", "A Ltd t/a B", "N GmbH (vormals O GmbH)", "2785510 Ontario Inc. (Maple Ridge
    Roofing)") and the records named by that second name (the same core, spaces aside): one group
    per such record, itself first. Both names are the company's, so a trading or operating name
    joins a record only on the same website when both give one; a former name needs none (a
    renamed company's new website). Rows: positions in ``norm``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    tokens = rules.get("tokens") or {}
    splitter = _trade_name_splitter(suffixes, tokens)
    if splitter is None:
        return []
    folded = fold(names)
    hit = pc.fill_null(pc.match_substring_regex(folded, splitter.pattern), False)
    rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    if not len(rows):
        return []
    split = [splitter(v) for v in folded.take(pa.array(rows)).to_pylist()]
    keep = [k for k, (_first, second, _former) in enumerate(split) if second]
    if not keep:
        return []
    rows = rows[keep]
    seconds = [split[k][1] for k in keep]
    former = [split[k][2] for k in keep]
    _name, second_core = account_name_core(pa.array(seconds, pa.string()), suffixes, tokens)
    second_compact = pc.replace_substring(second_core, " ", "").to_pylist()
    compact = pc.replace_substring(norm.column("name_core"), " ", "")
    named = np.flatnonzero(
        pc.fill_null(pc.is_in(compact, value_set=pa.array(second_compact, pa.string())), False).to_numpy(
            zero_copy_only=False
        )
    )
    by_core: dict[str, list[int]] = {}
    for r, c in zip(named.tolist(), compact.take(pa.array(named, pa.int64())).to_pylist(), strict=True):
        by_core.setdefault(c, []).append(r)
    site = norm.column("website_domain") if "website_domain" in norm.column_names else None
    groups: list[list[int]] = []
    for r, c, was in zip(rows.tolist(), second_compact, former, strict=True):
        if not c:
            continue
        mine = site[r].as_py() if site is not None else ""
        members = [
            m
            for m in by_core.get(c, [])
            if m != r and (was or not mine or not site[m].as_py() or site[m].as_py() == mine)
        ]
        if members:
            groups.append([r, *members])
    return groups


def _match_trade_names(
    norm: pa.Table,
    tbl: pa.Table,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    pair_score: dict[tuple[int, int], float],
) -> list[list[int]]:
    """The trade-name pairs (:func:`trade_name_pairs`: a record and the records its second name
    names) no other pass matched, added to ``pair_score`` at ``min_score``; the groups, each the
    head and the records it newly matched (other passes' partners are added later)."""
    out = []
    for group in trade_name_pairs(norm, tbl.column("name"), rules, suffixes):
        head, new = group[0], []
        for m in group[1:]:
            pair = (min(head, m), max(head, m))
            if pair not in pair_score:
                pair_score[pair] = float(rules.get("min_score", 90))
                new.append(m)
        out.append([head, *new])
    return out


def account_vetoes(
    core: list[str],
    names: Any,
    pairs: Any,
    rules: dict[str, Any],
    suffixes: dict[str, str],
    sites: Any = None,
) -> set[tuple[int, int]]:
    """The matched account pairs two legal entities hold (issue 15, round-7 accounts), whatever
    pass matched them: numbered companies whose digits differ ("2785501" / "2785510 Ontario Inc.",
    ``tokens.numbers_must_agree``: digits are never fuzzy), and a partnership whose general
    partner is a company ("X UG & Co. KG", ``tokens.partnership_forms``) beside a name ending in
    another legal form ("X UG"); "X GmbH & Co. KG" / "X KG" is the partnership itself."""
    import re

    import pyarrow as pa

    tokens = rules.get("tokens") or {}
    pairs = list(pairs)
    out: set[tuple[int, int]] = set()
    if tokens.get("numbers_must_agree"):
        digits: dict[int, str] = {}

        def number(r: int) -> str:
            if r not in digits:
                digits[r] = re.sub(r"\D", "", core[r]) if any(ch.isdigit() for ch in core[r]) else ""
            return digits[r]

        out |= {(a, b) for a, b in pairs if number(a) and number(b) and number(a) != number(b)}
    forms = [str(f) for f in tokens.get("partnership_forms") or []]
    if forms:
        alt = "|".join(re_escape(f) for f in forms)
        partnership = re.compile(rf"(?:&|\+|\bund\b|\band\b)\s*co\b\.?\s*({alt})\b")
        rows = sorted({x for p in pairs for x in p})
        raw = fold(names.take(pa.array(rows, pa.int64()))).to_pylist() if rows else []
        form_of = {
            r: (m.group(1) if (m := partnership.search(v)) else "") for r, v in zip(rows, raw, strict=True)
        }
        if any(form_of.values()):
            canonical = {str(v).split()[-1] for v in suffixes.values()}
            normed, _core = account_name_core(pa.array(raw, pa.string()), suffixes, tokens)
            last = {r: (v.split() or [""])[-1] for r, v in zip(rows, normed.to_pylist(), strict=True)}
            for a, b in pairs:
                fa, fb = form_of[a], form_of[b]
                if fa == fb:
                    continue
                for mine, other in ((fa, b), (fb, a)):
                    if mine and (form_of[other] or last[other] in canonical and last[other] != mine):
                        out.add((a, b))
    slips = int(tokens.get("slips_need_one_site") or 0)
    if slips and sites is not None:
        # names a letter or two apart (not the same core), each on a website of its own: two
        # companies with look-alike names ("Quillan Surveyors" / "Quillon Surveyors")
        from rapidfuzz.distance import Levenshtein

        rows = sorted({x for p in pairs for x in p})
        site_of = (
            dict(zip(rows, sites.take(pa.array(rows, pa.int64())).to_pylist(), strict=True)) if rows else {}
        )
        for a, b in pairs:
            sa, sb = site_of[a], site_of[b]
            if not (sa and sb and sa != sb):
                continue
            ca, cb = _translit(core[a].replace(" ", "")), _translit(core[b].replace(" ", ""))
            if ca != cb and Levenshtein.distance(ca, cb) <= slips:
                out.add((a, b))
    if tokens.get("other_forms_other_sites") and sites is not None:
        # two names ending in different legal forms, each on a website of its own: two companies
        # of one name (in two countries: "Technoplast S.r.l." / "Technoplast GmbH")
        both = [(a, b) for a, b in pairs if (a, b) not in out]
        rows = sorted({x for p in both for x in p})
        site_of = (
            dict(zip(rows, sites.take(pa.array(rows, pa.int64())).to_pylist(), strict=True)) if rows else {}
        )
        two = [(a, b) for a, b in both if site_of[a] and site_of[b] and site_of[a] != site_of[b]]
        form = legal_forms(names, sorted({x for p in two for x in p}), suffixes, tokens)
        apart = {(a, b) for a, b in two if form[a] and form[b] and form[a] != form[b]}
        out |= apart
        out |= _third_of_one_form(both, apart, names, suffixes, tokens)
    return out


def _entity_word_pairs(core: list[str], pairs: Any, tokens: dict[str, Any]) -> set[tuple[int, int]]:
    """Matched pairs in which one name has a word that names another entity
    (``tokens.entity_words_apart``: "Foundation", "Holding", "Trading" ...) and the other has no
    word it could be written as (its start, a contraction, its translation, or the initials of a
    run of words holding it: "FT" / "Foundation Trust"): "Habershaw Children's Hospital Foundation"
    / "Habershaw Children's Hospital", whichever pass matched them."""
    words = frozenset(str(w) for w in tokens.get("entity_words_apart") or [])
    if not words:
        return set()
    trans = ((tokens.get("same_site") or {}).get("translations")) or {}

    def written_as(w: str, x: str, name: list[str]) -> bool:
        if _short_form(w, x) or w in (trans.get(x) or ()) or x in (trans.get(w) or ()):
            return True
        at = name.index(w)
        return any(
            x == "".join(y[0] for y in name[i:j])
            for i in range(max(0, at - 5), at + 1)
            for j in range(at + 1, min(len(name), i + 6) + 1)
            if j - i >= 2
        )

    return {
        (a, b)
        for a, b in pairs
        if _word_unwritten(core[a].split(), core[b].split(), lambda w: w in words, written_as)
    }


def _short_form(w: str, x: str) -> bool:
    """Whether ``x`` writes the word ``w`` (or ``w`` writes ``x``) short: its start or a contraction."""
    return w.startswith(x) or x.startswith(w) or _contraction(x, w, 5)


def _word_unwritten(a: list[str], b: list[str], counts: Any, written_as: Any) -> bool:
    """Whether one of two names' word lists has a word ``counts`` accepts that no word only the
    other has writes in any form (``written_as(word, other_word, its_name)``)."""
    shared = set(a) & set(b)
    return any(
        counts(w) and not any(written_as(w, x, name) for x in set(other) - shared)
        for name, other in ((a, b), (b, a))
        for w in set(name) - shared
    )


def _other_words_other_sites(core: list[str], pairs: Any, sites: Any) -> set[tuple[int, int]]:
    """Matched pairs on two websites whose names differ by a whole word (one has a word the other
    does not write in any form: "Juniper Flats County Housing Authority" on jfcha.example /
    "Juniper Flats Housing Authority" on juniperflatsha.example): two organisations."""
    import pyarrow as pa

    pairs = list(pairs)
    rows = sorted({x for p in pairs for x in p})
    if not rows:
        return set()
    site_of = dict(zip(rows, sites.take(pa.array(rows, pa.int64())).to_pylist(), strict=True))
    out: set[tuple[int, int]] = set()
    for a, b in pairs:
        sa, sb = site_of[a], site_of[b]
        if not (sa and sb and sa != sb):
            continue
        if _word_unwritten(
            core[a].split(), core[b].split(), lambda w: len(w) >= 3, lambda w, x, _n: _short_form(w, x)
        ):
            out.add((a, b))
    return out


def _third_of_one_form(
    pairs: list[tuple[int, int]],
    apart: set[tuple[int, int]],
    names: Any,
    suffixes: dict[str, str],
    tokens: dict[str, Any],
) -> set[tuple[int, int]]:
    """A record without a website matched to both of two companies of one name kept apart
    (``apart``: other legal forms, each on a website of its own) is the one whose legal form it
    writes: its pair with the other is vetoed ("Agricola Los Aromos S. de R.L. de C.V." without a
    website beside the Mexican S. de R.L. de C.V. and the Chilean SpA)."""
    if not apart:
        return set()
    sides = {x for p in apart for x in p}
    partners: dict[int, set[int]] = {}
    for a, b in pairs:
        if a in sides or b in sides:
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
    third = {r for r, ps in partners.items() if r not in sides and len(ps & sides) >= 2}
    if not third:
        return set()
    form = legal_forms(names, sorted(third | sides), suffixes, tokens)
    out: set[tuple[int, int]] = set()
    for x, y in apart:
        for r in third:
            if {x, y} <= partners[r] and form[r] and form[r] in (form[x], form[y]):
                other = y if form[r] == form[x] else x
                out.add((min(r, other), max(r, other)))
    return out


def find_duplicates(
    df: pd.DataFrame | pa.Table, object_name: str, rules: dict[str, Any], suffixes: dict[str, str]
) -> DuplicateResult:
    """Cluster duplicate records of one object.

    Memory is bounded by the records' Arrow columns plus one batch of pairs: blocks and candidate
    pairs are built by DuckDB (include/sql/quality/duplicates/) and streamed in batches of
    ``score_chunk_pairs`` (default 100,000); only matched pairs are kept. Whether a compared and
    rejected pair separates two clusters is decided after matching, by re-scoring the candidate
    pairs whose two records both matched something (the only ones that can), instead of keeping
    every rejected pair.

    Args:
        df: one row per record with ``record_id``, ``created_at`` and the matcher roles
            (lead/contact: first_name, last_name, company, email and, where the source has them,
            phone, street, city, postal_code, state, country; account: name, website); a
            DataFrame or an Arrow table (cheaper: no Python object per value).
        object_name: lead, contact or account.
        rules: quality.yaml ``duplicates.objects.<object>``.
        suffixes: quality.yaml ``duplicates.company_suffixes``.
    """
    import numpy as np
    import pandas as pd

    t0 = time.monotonic()
    if isinstance(df, pd.DataFrame):
        df = df.reset_index(drop=True)
    tbl = _as_table(df)
    n = tbl.num_rows
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
    norm = normalise_table(tbl, object_name, suffixes, rules, keep=_needed_columns(object_name, rules))
    # from here on only the clustered records' id, created date and compared raw values are read
    # from the input: its other columns (phone, address ...: a third of 2 M leads' input) are let go
    # (freed when the caller passed the table without keeping it: runner._duplicate_outcomes)
    tbl = tbl.select(
        [c for c in ("record_id", "created_at", *COMPARE_ROLES[object_name]) if c in tbl.column_names]
    )
    if not isinstance(df, pd.DataFrame):
        df = tbl
    _release()
    if not _usable(norm, rules):
        return DuplicateResult(object_name, empty, n, 0, 0, 0, time.monotonic() - t0, unusable=True)
    batch = int(rules.get("score_chunk_pairs", DEFAULT_BATCH_PAIRS))
    weights = dict(rules.get("weights", {}))
    if object_name == "account":
        weights = {"name": 1.0}
    columns = {role: _one_array(norm.column(_ROLE_COLS[role])) for role in weights}
    tok = rules.get("tokens") or {}
    core = norm.column("name_core").to_pylist() if object_name == "account" and tok else None
    idf = _token_weights(norm.column("name_core")) if core is not None else {}
    person = rules.get("person") or {}
    person_on = bool(person) and object_name != "account"
    max_block = int(rules.get("max_block_size", 2000))
    person_max = int(person.get("max_block_size", max_block)) if person_on else 0

    blocks = _Blocks(norm)
    try:
        pair_score: dict[tuple[int, int], float] = {}
        for key in rules.get("keys", []):  # exact-key passes
            for a, b in zip(*(x.tolist() for x in blocks.exact_pairs(key)), strict=True):
                pair_score[(a, b)] = 100.0

        # the blocks of every pass first (each pass's built once: a rebuild reuses them), so the
        # columns only blocking keys read are let go before any pair is scored
        skipped, skipped_records, notes = blocks.build(rules.get("blocking", []), max_block)
        pskipped, precords, pnotes = (
            blocks.build(person.get("blocking", []), person_max) if person_on else (0, 0, [])
        )
        norm = _without_block_keys(blocks, norm, object_name, rules)

        # fuzzy pass
        if skipped:
            log.warning("%s: %d blocking groups larger than %s skipped", object_name, skipped, max_block)
        blocks.build(rules.get("blocking", []), max_block)
        candidates, matched = _fuzzy_pass(blocks, columns, weights, rules, core, idf, batch, pair_score)
        # accounts: a name and its acronym on one website (tokens.acronyms)
        acronyms = _match_acronyms(norm, tbl, rules, suffixes, pair_score) if core is not None else {}
        matched += len(acronyms)
        # accounts: a name cut at a field length; a trade descriptor on one website
        matched += _match_name_forms(norm, tbl, rules, suffixes, pair_score) if core is not None else 0
        # accounts: a record's trading, former or operating name names another record
        trade_groups = _match_trade_names(norm, tbl, rules, suffixes, pair_score) if core is not None else []
        matched += sum(len(g) - 1 for g in trade_groups)  # the heads' new pairs

        # person pass: name (either order) + a contact point
        if person_on:
            if pskipped:
                log.warning(
                    "%s: %d person blocking groups larger than %s skipped", object_name, pskipped, person_max
                )
            skipped, skipped_records, notes = skipped + pskipped, skipped_records + precords, notes + pnotes
            blocks.build(person.get("blocking", []), person_max)
            for i, j in blocks.pairs(batch):
                candidates += len(i)
                ok, score, _name_ok = _person_scores(norm, i, j, person)
                matched += int(ok.sum())
                for a, b, sc in zip(i[ok].tolist(), j[ok].tolist(), score[ok].tolist(), strict=True):
                    pair_score[(a, b)] = max(pair_score.get((a, b), 0.0), float(sc))

        # the person scorer's vetoes hold for every pass: an exact key or the fuzzy pass does not
        # join what it refuses (Sr. / Jr.; look-alike names that no personal field backs)
        kept_apart = _apply_person_vetoes(norm, pair_score, person if person_on else {}, batch)

        rejected: set[tuple[int, int]] = set()
        if rules.get("no_chaining", True) and pair_score:
            # compared-and-rejected pairs whose two records both matched something (only those
            # can bridge two groups), minus pairs another pass matched: the candidate pairs of
            # the matched records are generated and scored again (the same pairs, the same scores)
            nodes = np.unique(np.fromiter((x for p in pair_score for x in p), dtype=np.int64))
            blocks.build(rules.get("blocking", []), max_block)
            for i, j in blocks.pairs(batch, matched=nodes):
                _ok, _w, differ = _fuzzy_batch(columns, i, j, weights, rules, core, idf)
                if person_on and person.get("fellegi_sunter") and differ.any():
                    # persons: whether two names are two people is the person scorer's call (a
                    # nickname, Kate / Katherine, is far from its name by the whole-name ratio)
                    i, j = i[differ], j[differ]
                    _ok, _s, differ = _person_scores(norm, i, j, person)
                    differ = ~differ
                rejected.update(zip(i[differ].tolist(), j[differ].tolist(), strict=True))
            if person_on:
                blocks.build(person.get("blocking", []), person_max)
                for i, j in blocks.pairs(batch, matched=nodes):
                    _ok, _s, name_ok = _person_scores(norm, i, j, person)
                    rejected.update(zip(i[~name_ok].tolist(), j[~name_ok].tolist(), strict=True))
            rejected -= set(pair_score)
        rejected |= kept_apart
        sites = _one_array(norm.column("website_domain")) if "website_domain" in norm.column_names else None
        rejected, matched = _account_final_pairs(
            core, tbl, pair_score, rejected, trade_groups, matched, rules, suffixes, sites
        )
    finally:
        blocks.close()

    def result(clusters: pd.DataFrame) -> DuplicateResult:
        return DuplicateResult(
            object_name,
            clusters,
            n,
            candidates,
            matched,
            skipped,
            time.monotonic() - t0,
            skipped_records=skipped_records,
            skipped_notes=notes,
        )

    roots = _cluster(n, pair_score, rejected)
    if object_name == "account" and core is None:
        core = norm.column("name_core").to_pylist()
    return result(
        _clusters(
            df, tbl, norm, roots, pair_score, object_name, suffixes, core, empty, set(acronyms.values())
        )
    )


def _clusters(
    df: Any,
    tbl: pa.Table,
    norm: pa.Table,
    roots: Any,
    pair_score: dict[tuple[int, int], float],
    object_name: str,
    suffixes: dict[str, str],
    core: list[str] | None,
    empty: pd.DataFrame,
    acronyms: set[int] | None = None,
) -> pd.DataFrame:
    """One row per clustered record: the earliest-created member (ties: lowest id) is the
    original, every other member a duplicate of it with the kind of difference and its score
    (``acronyms``: the account records matched as another name's acronym; one of them next to
    a record of another core is ``fuzzy:acronym``)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    n = len(roots)
    sizes = np.bincount(roots, minlength=n)
    members = np.nonzero(sizes[roots] > 1)[0]
    if len(members) == 0:
        return empty
    created = _created(df, tbl, members)
    ids = norm.column("record_id").take(pa.array(members)).to_numpy(zero_copy_only=False)
    frame = pd.DataFrame({"idx": members, "root": roots[members], "created": created, "record_id": ids})
    frame = frame.sort_values(["root", "created", "record_id"], na_position="last")
    frame["orig"] = frame.groupby("root")["idx"].transform("first").to_numpy()
    roles = COMPARE_ROLES[object_name]
    raw = _raw_rows(df, tbl, members, roles)
    pos = {k: p for p, k in enumerate(members.tolist())}
    rid = dict(zip(members.tolist(), ids.tolist(), strict=True))
    rows = []
    for idx, orig in zip(frame["idx"].tolist(), frame["orig"].tolist(), strict=True):
        if idx == orig:
            rows.append((rid[idx], rid[orig], True, None, None))
            continue
        cores = (core[idx], core[orig]) if core is not None else None
        if (
            acronyms
            and cores is not None
            and cores[0] != cores[1]
            and (idx in acronyms) != (orig in acronyms)
        ):
            kind = "fuzzy:acronym"
        else:
            kind = _match_kind(raw[pos[idx]], raw[pos[orig]], roles, suffixes, cores)
        rows.append((rid[idx], rid[orig], False, kind, pair_score.get((min(idx, orig), max(idx, orig)))))
    return pd.DataFrame(rows, columns=["record_id", "cluster_id", "is_original", "match_kind", "score"])


def _created(df: Any, tbl: pa.Table, members: Any) -> Any:
    """Created timestamps of the clustered records (unparseable = NaT: sorts last)."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(df, pd.DataFrame):
        if "created_at" not in df:
            return pd.Series(pd.NaT, index=df.index).to_numpy()[members]
        return pd.to_datetime(df["created_at"], errors="coerce").to_numpy()[members]
    if "created_at" not in tbl.column_names:
        return np_nat(len(members))
    col = tbl.column("created_at")
    if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
        return pd.to_datetime(col.take(pa.array(members)).to_pandas(), errors="coerce").to_numpy()
    return pd.to_datetime(col.to_pandas(), errors="coerce").to_numpy()[members]


def np_nat(n: int) -> Any:
    import numpy as np

    return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")


def _raw_rows(df: Any, tbl: pa.Table, members: Any, roles: list[str]) -> list[dict[str, Any]]:
    """The raw (not normalised) role values of the clustered records, as the input holds them."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(df, pd.DataFrame):
        raw = df[roles].iloc[members]
        return [dict(zip(roles, vals, strict=True)) for vals in raw.itertuples(index=False, name=None)]
    present = [r for r in roles if r in tbl.column_names]
    sub = tbl.select(present).take(pa.array(members)).to_pandas()
    out = []
    for vals in sub.itertuples(index=False, name=None):
        row = dict.fromkeys(roles)
        row.update(zip(present, vals, strict=True))
        out.append(row)
    return out
