"""Account names one company's because the same website gives both and one is the other with words
more after it (quality.yaml ``account.tokens.same_site.extended_names``, issue 15): the name a CRM
takes from the domain or a rep types beside the registered one. Hand-written pairs, each with the
reason it is one company or two."""

from __future__ import annotations

import copy
import itertools

import pandas as pd
import pytest

from salesops.config import policy
from salesops.policy.errors import ConfigError
from salesops.policy.loader import validate
from salesops.quality.catalogue import load_config
from salesops.quality.duplicates import find_duplicates, territory_words


@pytest.fixture(scope="module")
def dup_cfg():
    return load_config().section("duplicates")


SAME = [
    (
        "Meridian Freight Systems Inc",
        "meridianfreight.example",
        "Meridian Freight",
        "meridianfreight.example",
    ),
    (
        "Orchid Bay Dental Group PLLC",
        "orchidbaydental.example",
        "Orchid Bay Dental",
        "orchidbaydental.example",
    ),
    ("Arbor Lane Senior Living", "arborlane.example", "Arbor Lane", "www.arborlane.example"),
    # written together / apart, and a word more
    (
        "Vantage Point Media Group",
        "vantagepointmedia.example",
        "VantagePoint Media",
        "vantagepointmedia.example",
    ),
    # the last word as its start
    ("Helix Biosciences", "helixbio.example", "Helix Bio", "helixbio.example"),
    # same number of words: two written as one, and an abbreviation (site_name_pairs)
    ("Greyfen Vet Surgery", "greyfenvet.example", "Grey Fen Veterinary Surgery", "greyfenvet.example"),
]
APART = [
    # a holding, a finance arm, a foundation on the group's website
    ("Kestrelford Optics Holdings", "kestrelford.example", "Kestrelford Optics", "kestrelford.example"),
    ("Brindlemoor Capital", "brindlemoor.example", "Brindlemoor", "brindlemoor.example"),
    ("Tarnwick Foundation", "tarnwick.example", "Tarnwick", "tarnwick.example"),
    # a country subsidiary (CLDR names: Polska, United States) and a region's company
    ("Ostrevia Logistics Polska", "ostrevia.example", "Ostrevia Logistics", "ostrevia.example"),
    ("Ostrevia Foods United States", "ostreviafoods.example", "Ostrevia Foods", "ostreviafoods.example"),
    ("Ostrevia Energy Nordic", "ostreviaenergy.example", "Ostrevia Energy", "ostreviaenergy.example"),
    # a group's services company, not "X Group"
    ("Quillmarsh Group Services Ltd", "quillmarsh.example", "The Quillmarsh Group", "quillmarsh.example"),
    # a franchise's location in brackets or after a dash
    ("Sparkvale Car Wash (Leeds)", "sparkvale.example", "Sparkvale Car Wash", "sparkvale.example"),
    (
        "Sparkvale Tutoring - Bristol",
        "sparkvaletutor.example",
        "Sparkvale Tutoring",
        "sparkvaletutor.example",
    ),
    # other legal forms at the ends
    ("Veldhorst Logistik GmbH", "veldhorst.example", "Veldhorst Logistik Benelux B.V.", "veldhorst.example"),
    # no website on one side: the words more alone are no evidence
    ("Crannock Analytics Systems", "crannock.example", "Crannock Analytics", None),
    # other websites
    ("Pellham Robotics Labs", "pellham-labs.example", "Pellham Robotics", "pellham.example"),
]


def account_pairs(rows, dup_cfg, rules=None) -> set[tuple[str, str]]:
    """The pairs the matcher finds among ``rows`` (record_id, name, website) of accounts, with the
    policy's account rules or ``rules``."""
    df = pd.DataFrame(rows, columns=["record_id", "name", "website"])
    df["created_at"] = pd.Timestamp("2026-01-01")
    r = find_duplicates(df, "account", rules or dup_cfg["objects"]["account"], dup_cfg["company_suffixes"])
    found: set[tuple[str, str]] = set()
    for _, g in r.clusters.groupby("cluster_id"):
        found |= set(itertools.combinations(sorted(g.record_id), 2))
    return found


def _extended_on(dup_cfg):
    """The account rules with same_site.extended_names matching (the shipped policy keeps the rule
    for its word lists but has it match nothing since batches 1 and 2 of issue 15)."""
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"]["same_site"]["extended_names"]["match"] = True
    return rules


def test_the_shipped_policy_matches_no_extended_name_on_its_own(dup_cfg):
    rows = [
        ("A", "Meridell Freight", "mdf-corp.example"),
        ("B", "Meridell Freight Systems Inc", "mdf-corp.example"),
    ]
    assert account_pairs(rows, dup_cfg, _extended_on(dup_cfg)) == {("A", "B")}
    assert account_pairs(rows, dup_cfg) == set()


def _run(pairs, dup_cfg):
    rows = []
    for k, (a, sa, b, sb) in enumerate(pairs):
        rows += [(f"R{k:02d}a", a, sa), (f"R{k:02d}b", b, sb)]
    return account_pairs(rows, dup_cfg, _extended_on(dup_cfg))


def test_a_name_with_words_more_on_its_website_is_that_company(dup_cfg):
    found = _run(SAME, dup_cfg)
    assert found == {(f"R{k:02d}a", f"R{k:02d}b") for k in range(len(SAME))}


def test_words_more_that_name_another_entity_place_or_branch_keep_them_apart(dup_cfg):
    assert _run(APART, dup_cfg) == set()


def test_a_short_name_that_starts_two_companies_names_on_the_website_matches_neither(dup_cfg):
    pairs = [("Corvane Media", "corvane.example", "Corvane", "corvane.example")]
    rows = [
        ("A", "Corvane Media", "corvane.example"),
        ("B", "Corvane", "corvane.example"),
        ("C", "Corvane Print", "corvane.example"),
    ]
    df = pd.DataFrame(rows, columns=["record_id", "name", "website"])
    df["created_at"] = pd.Timestamp("2026-01-01")
    r = find_duplicates(df, "account", dup_cfg["objects"]["account"], dup_cfg["company_suffixes"])
    assert r.clusters.empty, r.clusters
    assert _run(pairs, dup_cfg) == {("R00a", "R00b")}  # alone on its website, it is that company


def test_ordinal_words_are_their_short_form(dup_cfg):
    pairs = [
        ("First Coastline Bank", None, "1st Coastline Bank", None),
        ("Second Harbor Bakery", None, "1st Harbor Bakery", None),
    ]
    found = _run(pairs, dup_cfg)
    assert found == {("R00a", "R00b")}


def test_territory_words_come_from_cldr():
    names, words = territory_words(("en", "pl", "de"))
    assert {"polska", "canada", "osterreich", "deutschland"} <= words
    assert "united states" in names and "united" not in words


def test_an_unknown_territory_locale_names_the_key():
    raw = copy.deepcopy(policy("quality"))
    ext = raw["duplicates"]["objects"]["account"]["tokens"]["same_site"]["extended_names"]
    ext["territory_locales"] = ["en", "xx_QQ_zz"]
    with pytest.raises(ConfigError, match=r"territory_locales\[1\].*xx_QQ_zz.*CLDR locale"):
        validate("quality", raw)


def test_the_registered_names_twin_without_a_website_joins_the_short_name(dup_cfg):
    """ "Corbelline" on the website beside "Corbelline Software LLC", and "Corbelline Software" with
    no website: the website-less twin of the registered name was compared with the short name and
    rejected (the names differ), which kept the three apart until the twin took the pair's evidence
    (issue 15, round-8 accounts)."""
    rows = [
        ("A", "Corbelline Software LLC", "corbelline.example"),
        ("B", "Corbelline", "https://www.corbelline.example/"),
        ("C", "Corbelline Software", None),
    ]
    df = pd.DataFrame(rows, columns=["record_id", "name", "website"])
    df["created_at"] = pd.Timestamp("2026-01-01")
    r = find_duplicates(df, "account", dup_cfg["objects"]["account"], dup_cfg["company_suffixes"])
    clusters = {frozenset(g.record_id) for _, g in r.clusters.groupby("cluster_id")}
    assert clusters == {frozenset({"A", "B", "C"})}


def test_two_names_sharing_the_word_their_website_spells(dup_cfg):
    """same_site.brand_word (issue 15, from rounds 8, 17 and 19's misses): a rename or a registered
    and a trading name on one website sharing the word its domain spells; never a subsidiary's
    record, a leading group word, other legal forms, or a word the domain does not spell."""
    rows = [
        ("A1", "Larchmont Software Inc.", "larchmont.example"),
        ("A2", "Larchmont Cloud, Inc.", "www.larchmont.example"),
        ("B1", "Hostal Las Brisas", "lasbrisasnerja.example"),
        ("B2", "Hotel Las Brisas Nerja", "lasbrisasnerja.example"),
        ("C1", "Ottmar Logistik GmbH", "ottmar.example"),
        ("C2", "Ottmar Mobility AG", "ottmar.example"),  # other legal forms: two entities
        ("D1", "Grupo Tolvera", "tolvera.example"),
        ("D2", "Tolvera Transportes S.A.", "tolvera.example"),  # a leading group word: the group
        ("E1", "Brennick Analytics", "brennick.example"),
        ("E2", "Brennick Analytics (Canada) Ltd", "brennick.example"),  # a subsidiary's record
    ]
    found = account_pairs(rows, dup_cfg)
    assert {("A1", "A2"), ("B1", "B2")} <= found
    assert not {("C1", "C2"), ("D1", "D2"), ("E1", "E2")} & found
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"]["same_site"].pop("brand_word")
    assert not {("A1", "A2"), ("B1", "B2")} & account_pairs(rows, dup_cfg, rules)
