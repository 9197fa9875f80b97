"""Integrity of the held-out duplicate fixtures (tests/fixtures/duplicates/HELD_OUT.md, issue 15).

These checks look only at the files: unique ids, a header the loaders in test_duplicates_foreign.py
read, dates that parse, and truth files that name existing ids once each, ordered id_a < id_b, with
every true group closed (all pairs of a group listed, so the pairs are a transitive relation). They
never call the matcher: the lists are kept for one held-out precision/recall measurement.
"""

from __future__ import annotations

import csv
import itertools
from datetime import datetime
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures" / "duplicates"

LEAD_HEADER = [
    "Lead ID",
    "First Name",
    "Last Name",
    "Company",
    "Email",
    "Phone",
    "Street",
    "City",
    "Zip",
    "State",
    "Country",
    "Created",
]
CONTACT_HEADER = [
    "Contact ID",
    "First Name",
    "Last Name",
    "Account ID",
    "Email",
    "Phone",
    "Mailing Street",
    "Mailing City",
    "Mailing Zip",
    "Mailing State",
    "Mailing Country",
    "Birthdate",
    "Created",
]
ACCOUNT_HEADER = ["Account ID", "Account Name", "Website", "Created Date"]

# name, header, id column, created column, id prefix, (records, true pairs, groups) as written
HELD_OUT = [
    ("leads_agency", LEAD_HEADER, "Lead ID", "Created", "AG-", (80, 29, 17)),
    ("contacts_partner", CONTACT_HEADER, "Contact ID", "Created", "CP-", (60, 18, 10)),
    ("accounts_vendor", ACCOUNT_HEADER, "Account ID", "Created Date", "AV-", (100, 30, 22)),
    # round 4 (HELD_OUT.md "Round 4")
    ("leads_marketplace", LEAD_HEADER, "Lead ID", "Created", "MK-", (80, 28, 16)),
    ("contacts_reseller", CONTACT_HEADER, "Contact ID", "Created", "RS-", (60, 18, 12)),
    ("accounts_partner", ACCOUNT_HEADER, "Account ID", "Created Date", "PA-", (100, 30, 22)),
    # round 5 (HELD_OUT.md "Round 5")
    ("leads_syndication", LEAD_HEADER, "Lead ID", "Created", "SY-", (80, 28, 16)),
    ("contacts_migration", CONTACT_HEADER, "Contact ID", "Created", "CM-", (60, 18, 12)),
    ("accounts_dataroom", ACCOUNT_HEADER, "Account ID", "Created Date", "DR-", (100, 30, 22)),
    # round 6 (HELD_OUT.md "Round 6")
    ("accounts_procurement", ACCOUNT_HEADER, "Account ID", "Created Date", "PR-", (100, 30, 22)),
    ("leads_fieldevent", LEAD_HEADER, "Lead ID", "Created", "FE-", (80, 28, 16)),
    ("contacts_supportdesk", CONTACT_HEADER, "Contact ID", "Created", "SD-", (60, 18, 12)),
    # round 7 (HELD_OUT.md "Round 7")
    ("accounts_crmmerge", ACCOUNT_HEADER, "Account ID", "Created Date", "CX-", (100, 30, 22)),
    ("leads_partnerportal", LEAD_HEADER, "Lead ID", "Created", "PP-", (80, 28, 16)),
    ("contacts_esign", CONTACT_HEADER, "Contact ID", "Created", "ES-", (60, 18, 12)),
    # round 8 (HELD_OUT.md "Round 8")
    ("accounts_saasorg", ACCOUNT_HEADER, "Account ID", "Created Date", "NA-", (100, 30, 22)),
    ("leads_inbound", LEAD_HEADER, "Lead ID", "Created", "WL-", (80, 28, 16)),
    ("contacts_emailsync", CONTACT_HEADER, "Contact ID", "Created", "EC-", (60, 18, 12)),
    # round 9 (HELD_OUT.md "Round 9")
    ("accounts_hubspoteu", ACCOUNT_HEADER, "Account ID", "Created Date", "HE-", (100, 30, 22)),
    ("leads_tradefair", LEAD_HEADER, "Lead ID", "Created", "TF-", (80, 28, 16)),
    ("contacts_erpsync", CONTACT_HEADER, "Contact ID", "Created", "EY-", (60, 18, 12)),
    # round 10 (HELD_OUT.md "Round 10")
    ("accounts_ukprosvc", ACCOUNT_HEADER, "Account ID", "Created Date", "UK-", (100, 30, 22)),
    ("leads_ukevents", LEAD_HEADER, "Lead ID", "Created", "UL-", (80, 28, 16)),
    ("contacts_ukcrm", CONTACT_HEADER, "Contact ID", "Created", "UC-", (60, 18, 12)),
    # round 11 (HELD_OUT.md "Round 11")
    ("accounts_iotdealers", ACCOUNT_HEADER, "Account ID", "Created Date", "IO-", (100, 30, 22)),
    ("leads_iotinbound", LEAD_HEADER, "Lead ID", "Created", "IL-", (80, 28, 16)),
    ("contacts_iotservice", CONTACT_HEADER, "Contact ID", "Created", "IC-", (60, 18, 12)),
    # round 12 (HELD_OUT.md "Round 12")
    ("accounts_anzsaas", ACCOUNT_HEADER, "Account ID", "Created Date", "AU-", (100, 30, 22)),
    ("leads_anzforms", LEAD_HEADER, "Lead ID", "Created", "AL-", (80, 28, 16)),
    ("contacts_anzhub", CONTACT_HEADER, "Contact ID", "Created", "AH-", (60, 18, 12)),
    # round 13 (HELD_OUT.md "Round 13")
    ("accounts_healthit", ACCOUNT_HEADER, "Account ID", "Created Date", "HI-", (100, 30, 22)),
    ("leads_healthleads", LEAD_HEADER, "Lead ID", "Created", "HL-", (80, 28, 16)),
    ("contacts_healthcontacts", CONTACT_HEADER, "Contact ID", "Created", "HK-", (60, 18, 12)),
    # round 14 (HELD_OUT.md "Round 14")
    ("accounts_insurance", ACCOUNT_HEADER, "Account ID", "Created Date", "IA-", (100, 30, 22)),
    ("leads_insleads", LEAD_HEADER, "Lead ID", "Created", "IN-", (80, 28, 16)),
    ("contacts_inscontacts", CONTACT_HEADER, "Contact ID", "Created", "IS-", (60, 18, 12)),
    # round 15 (HELD_OUT.md "Round 15")
    ("accounts_agencies", ACCOUNT_HEADER, "Account ID", "Created Date", "MA-", (100, 30, 22)),
    ("leads_agencyleads", LEAD_HEADER, "Lead ID", "Created", "ML-", (80, 28, 16)),
    ("contacts_agencycontacts", CONTACT_HEADER, "Contact ID", "Created", "MC-", (60, 18, 12)),
    # round 16 (HELD_OUT.md "Round 16")
    ("accounts_logistics", ACCOUNT_HEADER, "Account ID", "Created Date", "LG-", (100, 30, 22)),
    ("leads_logleads", LEAD_HEADER, "Lead ID", "Created", "LL-", (80, 28, 16)),
    ("contacts_logcontacts", CONTACT_HEADER, "Contact ID", "Created", "LC-", (60, 18, 12)),
    # round 17 (HELD_OUT.md "Round 17")
    ("accounts_hrnordic", ACCOUNT_HEADER, "Account ID", "Created Date", "HR-", (100, 30, 22)),
    ("leads_hrleads", LEAD_HEADER, "Lead ID", "Created", "HN-", (80, 28, 16)),
    ("contacts_hrcontacts", CONTACT_HEADER, "Contact ID", "Created", "HC-", (60, 18, 12)),
    # round 18 (HELD_OUT.md "Round 18")
    ("accounts_cybersec", ACCOUNT_HEADER, "Account ID", "Created Date", "CS-", (100, 30, 22)),
    ("leads_cyberleads", LEAD_HEADER, "Lead ID", "Created", "CL-", (80, 28, 16)),
    ("contacts_cybercontacts", CONTACT_HEADER, "Contact ID", "Created", "CC-", (60, 18, 12)),
    # round 19 (HELD_OUT.md "Round 19")
    ("accounts_hospitality", ACCOUNT_HEADER, "Account ID", "Created Date", "HO-", (100, 30, 22)),
    ("leads_hospleads", LEAD_HEADER, "Lead ID", "Created", "HP-", (80, 28, 16)),
    ("contacts_hospcontacts", CONTACT_HEADER, "Contact ID", "Created", "HT-", (60, 18, 12)),
    # round 20 (HELD_OUT.md "Round 20")
    ("accounts_construction", ACCOUNT_HEADER, "Account ID", "Created Date", "CO-", (100, 30, 22)),
    ("leads_constleads", LEAD_HEADER, "Lead ID", "Created", "CN-", (80, 28, 16)),
    ("contacts_constcontacts", CONTACT_HEADER, "Contact ID", "Created", "CT-", (60, 18, 12)),
    # round 21 (HELD_OUT.md "Round 21")
    ("accounts_ecomdach", ACCOUNT_HEADER, "Account ID", "Created Date", "EC-", (100, 30, 22)),
    ("leads_ecomleads", LEAD_HEADER, "Lead ID", "Created", "EL-", (80, 28, 16)),
    ("contacts_ecomcontacts", CONTACT_HEADER, "Contact ID", "Created", "EK-", (60, 18, 12)),
    # round 22 (HELD_OUT.md "Round 22")
    ("accounts_edtech", ACCOUNT_HEADER, "Account ID", "Created Date", "ED-", (100, 30, 22)),
    ("leads_edleads", LEAD_HEADER, "Lead ID", "Created", "EE-", (80, 28, 16)),
    ("contacts_edcontacts", CONTACT_HEADER, "Contact ID", "Created", "EF-", (60, 18, 12)),
    # round 23 (HELD_OUT.md "Round 23")
    ("accounts_facilityfr", ACCOUNT_HEADER, "Account ID", "Created Date", "FA-", (100, 30, 22)),
    ("leads_facilityleads", LEAD_HEADER, "Lead ID", "Created", "FL-", (80, 28, 16)),
    ("contacts_facilitycontacts", CONTACT_HEADER, "Contact ID", "Created", "FC-", (60, 18, 12)),
    # round 24 (HELD_OUT.md "Round 24")
    ("accounts_finserv", ACCOUNT_HEADER, "Account ID", "Created Date", "FN-", (100, 30, 22)),
    ("leads_finleads", LEAD_HEADER, "Lead ID", "Created", "FQ-", (80, 28, 16)),
    ("contacts_fincontacts", CONTACT_HEADER, "Contact ID", "Created", "FR-", (60, 18, 12)),
    # round 25 (HELD_OUT.md "Round 25")
    ("accounts_apacsaas", ACCOUNT_HEADER, "Account ID", "Created Date", "SA-", (100, 30, 22)),
    ("leads_apacleads", LEAD_HEADER, "Lead ID", "Created", "SL-", (80, 28, 16)),
    ("contacts_apaccontacts", CONTACT_HEADER, "Contact ID", "Created", "SC-", (60, 18, 12)),
    # round 26 (HELD_OUT.md "Round 26")
    ("accounts_manufacturing", ACCOUNT_HEADER, "Account ID", "Created Date", "MN-", (100, 30, 22)),
    ("leads_mfgleads", LEAD_HEADER, "Lead ID", "Created", "MO-", (80, 28, 16)),
    ("contacts_mfgcontacts", CONTACT_HEADER, "Contact ID", "Created", "MP-", (60, 18, 12)),
    # round 27 (HELD_OUT.md "Round 27")
    ("accounts_latam", ACCOUNT_HEADER, "Account ID", "Created Date", "LA-", (100, 30, 22)),
    ("leads_latamleads", LEAD_HEADER, "Lead ID", "Created", "LB-", (80, 28, 16)),
    ("contacts_latamcontacts", CONTACT_HEADER, "Contact ID", "Created", "LD-", (60, 18, 12)),
    # round 28 (HELD_OUT.md "Round 28")
    ("accounts_dachindustry", ACCOUNT_HEADER, "Account ID", "Created Date", "DA-", (100, 30, 22)),
    ("leads_dachleads", LEAD_HEADER, "Lead ID", "Created", "DB-", (80, 28, 16)),
    ("contacts_dachcontacts", CONTACT_HEADER, "Contact ID", "Created", "DC-", (60, 18, 12)),
    # round 29 (HELD_OUT.md "Round 29")
    ("accounts_ukpublic", ACCOUNT_HEADER, "Account ID", "Created Date", "UP-", (100, 30, 22)),
    ("leads_ukpubleads", LEAD_HEADER, "Lead ID", "Created", "UQ-", (80, 28, 16)),
    ("contacts_ukpubcontacts", CONTACT_HEADER, "Contact ID", "Created", "UR-", (60, 18, 12)),
    # round 30 (HELD_OUT.md "Round 30")
    ("accounts_lifesci", ACCOUNT_HEADER, "Account ID", "Created Date", "BT-", (100, 30, 22)),
    ("leads_lifescileads", LEAD_HEADER, "Lead ID", "Created", "BU-", (80, 28, 16)),
    ("contacts_lifescicontacts", CONTACT_HEADER, "Contact ID", "Created", "BV-", (60, 18, 12)),
    # round 31 (HELD_OUT.md "Round 31")
    ("accounts_mea", ACCOUNT_HEADER, "Account ID", "Created Date", "ME-", (100, 30, 22)),
    ("leads_mealeads", LEAD_HEADER, "Lead ID", "Created", "MF-", (80, 28, 16)),
    ("contacts_meacontacts", CONTACT_HEADER, "Contact ID", "Created", "MG-", (60, 18, 12)),
    # round 32 (HELD_OUT.md "Round 32")
    ("accounts_benelux", ACCOUNT_HEADER, "Account ID", "Created Date", "NB-", (100, 30, 22)),
    ("leads_beneluxleads", LEAD_HEADER, "Lead ID", "Created", "NC-", (80, 28, 16)),
    ("contacts_beneluxcontacts", CONTACT_HEADER, "Contact ID", "Created", "ND-", (60, 18, 12)),
    # round 33 (HELD_OUT.md "Round 33")
    ("accounts_anzproperty", ACCOUNT_HEADER, "Account ID", "Created Date", "AZ-", (100, 30, 22)),
    ("leads_anzpropleads", LEAD_HEADER, "Lead ID", "Created", "BA-", (80, 28, 16)),
    ("contacts_anzpropcontacts", CONTACT_HEADER, "Contact ID", "Created", "BB-", (60, 18, 12)),
    # round 34 (HELD_OUT.md "Round 34")
    ("accounts_nonprofit", ACCOUNT_HEADER, "Account ID", "Created Date", "NP-", (100, 30, 22)),
    ("leads_nonprofitleads", LEAD_HEADER, "Lead ID", "Created", "NQ-", (80, 28, 16)),
    ("contacts_nonprofitcontacts", CONTACT_HEADER, "Contact ID", "Created", "NR-", (60, 18, 12)),
    # round 35 (HELD_OUT.md "Round 35")
    ("accounts_eastasia", ACCOUNT_HEADER, "Account ID", "Created Date", "JA-", (100, 30, 22)),
    ("leads_eastasialeads", LEAD_HEADER, "Lead ID", "Created", "JB-", (80, 28, 16)),
    ("contacts_eastasiacontacts", CONTACT_HEADER, "Contact ID", "Created", "JC-", (60, 18, 12)),
    # round 36 (HELD_OUT.md "Round 36")
    ("accounts_realestate", ACCOUNT_HEADER, "Account ID", "Created Date", "RA-", (100, 30, 22)),
    ("leads_realestateleads", LEAD_HEADER, "Lead ID", "Created", "RB-", (80, 28, 16)),
    ("contacts_realestatecontacts", CONTACT_HEADER, "Contact ID", "Created", "RC-", (60, 18, 12)),
    # round 37 (HELD_OUT.md "Round 37")
    ("accounts_govtech", ACCOUNT_HEADER, "Account ID", "Created Date", "GV-", (100, 30, 22)),
    ("leads_govtechleads", LEAD_HEADER, "Lead ID", "Created", "GW-", (80, 28, 16)),
    ("contacts_govtechcontacts", CONTACT_HEADER, "Contact ID", "Created", "GX-", (60, 18, 12)),
    # round 38 (HELD_OUT.md "Round 38")
    ("accounts_nordicfin", ACCOUNT_HEADER, "Account ID", "Created Date", "NO-", (100, 30, 22)),
    ("leads_nordicfinleads", LEAD_HEADER, "Lead ID", "Created", "NS-", (80, 28, 16)),
    ("contacts_nordicfincontacts", CONTACT_HEADER, "Contact ID", "Created", "NT-", (60, 18, 12)),
    # round 39 (HELD_OUT.md "Round 39")
    ("accounts_telecom", ACCOUNT_HEADER, "Account ID", "Created Date", "TC-", (100, 30, 22)),
    ("leads_telecomleads", LEAD_HEADER, "Lead ID", "Created", "TD-", (80, 28, 16)),
    ("contacts_telecomcontacts", CONTACT_HEADER, "Contact ID", "Created", "TE-", (60, 18, 12)),
    # round 40 (HELD_OUT.md "Round 40")
    ("accounts_lawfirms", ACCOUNT_HEADER, "Account ID", "Created Date", "LW-", (100, 30, 22)),
    ("leads_lawleads", LEAD_HEADER, "Lead ID", "Created", "LX-", (80, 28, 16)),
    ("contacts_lawcontacts", CONTACT_HEADER, "Contact ID", "Created", "LY-", (60, 18, 12)),
    # round 41 (HELD_OUT.md "Round 41")
    ("accounts_indiasaas", ACCOUNT_HEADER, "Account ID", "Created Date", "IX-", (100, 30, 22)),
    ("leads_indialeads", LEAD_HEADER, "Lead ID", "Created", "IY-", (80, 28, 16)),
    ("contacts_indiacontacts", CONTACT_HEADER, "Contact ID", "Created", "IZ-", (60, 18, 12)),
    # round 42 (HELD_OUT.md "Round 42")
    ("accounts_clinics", ACCOUNT_HEADER, "Account ID", "Created Date", "VA-", (100, 30, 22)),
    ("leads_clinicleads", LEAD_HEADER, "Lead ID", "Created", "VB-", (80, 28, 16)),
    ("contacts_cliniccontacts", CONTACT_HEADER, "Contact ID", "Created", "VC-", (60, 18, 12)),
    # round 43 (HELD_OUT.md "Round 43")
    ("accounts_fashionretail", ACCOUNT_HEADER, "Account ID", "Created Date", "FS-", (100, 30, 22)),
    ("leads_fashionleads", LEAD_HEADER, "Lead ID", "Created", "FT-", (80, 28, 16)),
    ("contacts_fashioncontacts", CONTACT_HEADER, "Contact ID", "Created", "FU-", (60, 18, 12)),
]
IDS = [h[0] for h in HELD_OUT]


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _groups(pairs: list[tuple[str, str]]) -> list[set[str]]:
    """Connected components of the truth pairs (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    comps: dict[str, set[str]] = {}
    for x in list(parent):
        comps.setdefault(find(x), set()).add(x)
    return list(comps.values())


@pytest.mark.parametrize(("name", "header", "id_col", "created_col", "prefix", "counts"), HELD_OUT, ids=IDS)
def test_held_out_fixture_integrity(name, header, id_col, created_col, prefix, counts):
    fields, rows = _read(FIXTURES / f"{name}.csv")
    assert fields == header
    ids = [r[id_col] for r in rows]
    assert len(ids) == len(set(ids)), "record ids must be unique"
    assert all(i.startswith(prefix) for i in ids)
    for r in rows:
        assert None not in r and all(v is not None for v in r.values()), f"ragged row {r[id_col]}"
        datetime.strptime(r[created_col], "%m/%d/%Y")
        if "Birthdate" in r and r["Birthdate"]:
            assert datetime.strptime(r["Birthdate"], "%Y-%m-%d") < datetime.strptime(
                r[created_col], "%m/%d/%Y"
            )

    tfields, truth = _read(FIXTURES / f"{name}_true_pairs.csv")
    assert tfields == ["id_a", "id_b", "why"]
    pairs = [(t["id_a"], t["id_b"]) for t in truth]
    assert len(pairs) == len(set(pairs)), "a true pair is listed twice"
    assert all(a < b for a, b in pairs), "id_a < id_b in every true pair"
    assert {i for p in pairs for i in p} <= set(ids), "every truth id is a record of the list"
    assert all(t["why"].strip() for t in truth), "every true pair says why"

    groups = _groups(pairs)
    closure = {p for g in groups for p in itertools.combinations(sorted(g), 2)}
    assert closure == set(pairs), "each true group lists all its pairs (closed under transitivity)"
    assert all(len(g) in (2, 3) for g in groups)
    assert (len(rows), len(pairs), len(groups)) == counts


def test_held_out_fixtures_are_fictional():
    """Synthetic data only: .example e-mail domains and websites, 555 phone numbers."""
    for name, *_ in HELD_OUT:
        _, rows = _read(FIXTURES / f"{name}.csv")
        for r in rows:
            email = r.get("Email", "")
            assert not email or email.lower().endswith(".example"), email
            phone = r.get("Phone", "")
            assert not phone or "555" in phone, phone
            web = r.get("Website", "").rstrip("/")
            assert not web or web.endswith(".example"), web
