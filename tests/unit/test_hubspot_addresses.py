"""HubSpot contact/lead postal addresses (issue 15): HubSpot's ``address``, ``city``, ``zip``,
``state`` and ``country`` land in the same staging columns as Salesforce's Street/City/PostalCode/
State/Country (Lead) and MailingStreet/... (Contact), so the person duplicate matcher and the
territory rules work on HubSpot data that has no e-mail, company or phone.

Fixture: tests/fixtures/hubspot/search_contacts_leads.json (hand-written: six leads, names and
addresses only). Expected by hand: 7102 is 7101 with first and last name swapped at the same
address, 7105 is 7104 with a typo in the last name at the same address; 7103 has 7101's name but
another address (a different person); 7106 is alone. Without the address mapping the leads carry
names only and the matcher has no key at all (not evaluated).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.fixtures.http_replay import FIXTURES, replay_session

from salesops.config import get_object
from salesops.sources.hubspot import HubSpotClient, HubSpotSource
from salesops.warehouse.core import Warehouse

UNTIL = datetime(2026, 10, 8, tzinfo=UTC)
DATE_HEADER = {"Date": "Thu, 08 Oct 2026 00:00:30 GMT"}  # the portal's clock (search lag 30 s)


def _source(config=None):
    session, adapter = replay_session(FIXTURES / "hubspot")
    src = HubSpotSource(HubSpotClient("pat-na1-test", session=session, sleep=lambda s: None), config)
    adapter.add("GET", "/crm/v3/properties/contacts", "properties_contacts.json")
    return src, adapter


def test_lead_and_contact_addresses_map_to_the_manifest_fields():
    src, adapter = _source()
    adapter.add("POST", "/crm/v3/objects/contacts/search", "search_contacts_leads.json")
    lead = get_object("lead")
    (page,) = list(src.read_changes("Lead", lead.api_fields, "SystemModstamp", None, UNTIL))
    body = adapter.calls[1].body
    assert {"address", "city", "zip", "state", "country"} <= set(body["properties"])
    first = page[0]
    assert (first["Street"], first["City"], first["PostalCode"], first["State"], first["Country"]) == (
        "12 Example Road",
        "Berlin",
        "10115",
        "Berlin",
        "Germany",
    )
    assert first["Status"] == "Open" and first["LeadSource"] == "Event"  # NEW / OFFLINE mapped
    # a contact: the same properties into the Mailing* fields
    adapter.add(
        "POST",
        "/crm/v3/objects/contacts/search",
        {
            "total": 1,
            "results": [
                {
                    "id": "7201",
                    "properties": {
                        "address": "7 Placeholder Way",
                        "associatedcompanyid": "5001",
                        "city": "Lyon",
                        "country": "France",
                        "createdate": "2026-10-01T09:00:00.000Z",
                        "date_of_birth": None,
                        "email": None,
                        "firstname": "Tau",
                        "hs_analytics_source": "REFERRALS",
                        "hs_object_id": "7201",
                        "hubspot_owner_id": "71001",
                        "jobtitle": None,
                        "lastmodifieddate": "2026-10-05T10:00:00.000Z",
                        "lastname": "Exampleson",
                        "phone": None,
                        "state": "Auvergne-Rhone-Alpes",
                        "zip": "69001",
                    },
                }
            ],
        },
    )
    contact = get_object("contact")
    (cpage,) = list(src.read_changes("Contact", contact.api_fields, "SystemModstamp", None, UNTIL))
    rec = cpage[0]
    assert {
        k: rec[k]
        for k in ("MailingStreet", "MailingCity", "MailingPostalCode", "MailingState", "MailingCountry")
    } == {
        "MailingStreet": "7 Placeholder Way",
        "MailingCity": "Lyon",
        "MailingPostalCode": "69001",
        "MailingState": "Auvergne-Rhone-Alpes",
        "MailingCountry": "France",
    }
    assert "Contact" not in src.dropped_fields or not {
        "MailingStreet",
        "MailingCity",
        "MailingPostalCode",
        "MailingState",
        "MailingCountry",
    } & set(src.dropped_fields["Contact"])


def _load_leads(wh: Warehouse, tmp_path, config=None):
    from salesops.ingest.extract import extract_batch
    from salesops.ingest.load import load_batch

    src, adapter = _source(config)
    adapter.add(
        "GET", "/crm/v3/owners", {"status": 200, "json": {"results": []}, "headers": DATE_HEADER}, sticky=True
    )
    adapter.add("POST", "/crm/v3/objects/contacts/search", "search_contacts_leads.json")
    adapter.add("GET", "/crm/v3/objects/contacts", {"results": []}, sticky=True)  # nothing archived
    return load_batch(wh, extract_batch(src, "lead", wh, landing_root=tmp_path / "landing"))


@pytest.fixture(scope="module")
def hubspot_quality(tmp_path_factory):
    """The six HubSpot leads extracted, loaded and checked by the real quality runner."""
    from salesops.quality.runner import run_quality

    root = tmp_path_factory.mktemp("hubspot_addresses")
    wh = Warehouse(f"duckdb:///{root / 'w.duckdb'}")
    result = _load_leads(wh, root)
    run_quality(wh, run_id="hs1", build_docs=False)
    return wh, result


def test_hubspot_leads_staged_with_their_address(hubspot_quality):
    wh, result = hubspot_quality
    assert (result.rows_read, result.rows_rejected) == (6, 0)
    rows = wh.query(
        "select street, city, postal_code, state, country from staging.stg_crm__lead where id = '7106'"
    )
    assert rows == [
        {
            "street": "1 Demo Avenue",
            "city": "Toronto",
            "postal_code": "M5H 2N2",
            "state": "ON",
            "country": "Canada",
        }
    ]


def test_person_duplicates_found_on_hubspot_addresses(hubspot_quality):
    """The matcher pairs people by name (either order, typos) plus an agreeing address; a shared
    name at another address is not a duplicate."""
    wh, _ = hubspot_quality
    res = wh.query(
        "select status, evaluated, failed from quality.check_result "
        "where run_id = 'hs1' and check_id = 'lead_duplicate' and scope_type = 'all'"
    )
    assert res == [{"status": "failed", "evaluated": 6, "failed": 2}]
    pairs = {
        (r["record_id"], r["related_id"])
        for r in wh.query(
            "select record_id, related_id from quality.run_exception where run_id = 'hs1' and check_id = 'lead_duplicate'"
        )
    }
    assert pairs == {("7102", "7101"), ("7105", "7104")}
    # territory rules: each lead's region comes from its HubSpot country (Germany EMEA, Canada AMER)
    regions = {
        r["scope_value"]: (r["evaluated"], r["failed"])
        for r in wh.query(
            "select scope_value, evaluated, failed from quality.check_result "
            "where run_id = 'hs1' and check_id = 'lead_duplicate' and scope_type = 'region'"
        )
    }
    assert regions == {"EMEA": (5, 2), "AMER": (1, 0)}


def test_without_the_address_mapping_the_matcher_has_no_key(tmp_path):
    """What main did before: HubSpot leads with names only, no usable key, "not evaluated"."""
    import copy

    from salesops.quality.catalogue import load_config
    from salesops.quality.duplicates import find_duplicates
    from salesops.sources.hubspot import settings

    cfg = copy.deepcopy(settings())
    for f in ("Street", "City", "PostalCode", "State"):
        del cfg["objects"]["Lead"]["fields"][f]
    wh = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    _load_leads(wh, tmp_path, cfg)
    assert wh.scalar("select count(*) from staging.stg_crm__lead where street is not null") == 0
    qcfg = load_config()
    rules = qcfg.section("duplicates")["objects"]["lead"]
    records = wh.query_df(
        "select id as record_id, created_at, first_name, last_name, company, email, phone, street, city, "
        "postal_code, state, country from staging.stg_crm__lead"
    )
    assert find_duplicates(records, "lead", rules, {}).unusable


def test_a_company_address_and_type_map_to_the_account_billing_fields():
    """HubSpot's company ``address``, ``city``, ``zip``, ``state``, ``country`` and ``type`` land in
    Account.BillingStreet ... BillingCountry and Account.Type (before, only the country was mapped and
    the rest of the address was left unmapped); a property the portal lacks is dropped and reported."""
    session, adapter = replay_session(FIXTURES / "hubspot")
    src = HubSpotSource(HubSpotClient("pat-na1-test", session=session, sleep=lambda s: None))
    names = ["address", "city", "country", "createdate", "domain", "hs_lastmodifieddate", "hs_object_id"]
    names += ["hubspot_owner_id", "industry", "name", "state", "type", "zip"]
    adapter.add("GET", "/crm/v3/properties/companies", {"results": [{"name": n} for n in names]})
    adapter.add(
        "POST",
        "/crm/v3/objects/companies/search",
        {
            "total": 1,
            "results": [
                {
                    "id": "5001",
                    "properties": {
                        "address": "1 Sample Street",
                        "city": "Leeds",
                        "country": "United Kingdom",
                        "createdate": "2026-09-01T09:00:00.000Z",
                        "domain": "sample.example",
                        "hs_lastmodifieddate": "2026-10-05T10:00:00.000Z",
                        "hs_object_id": "5001",
                        "hubspot_owner_id": "71001",
                        "industry": "COMPUTER_SOFTWARE",
                        "name": "Sample Company Ltd",
                        "state": "West Yorkshire",
                        "type": "PROSPECT",
                        "zip": "LS1 1AA",
                    },
                }
            ],
        },
    )
    account = get_object("account")
    (page,) = list(src.read_changes("Account", account.api_fields, "SystemModstamp", None, UNTIL))
    body = adapter.calls[1].body
    assert {"address", "city", "zip", "state", "country", "type"} <= set(body["properties"])
    rec = page[0]
    assert (
        rec["BillingStreet"],
        rec["BillingCity"],
        rec["BillingPostalCode"],
        rec["BillingState"],
        rec["BillingCountry"],
        rec["Type"],
        rec["Industry"],
    ) == (
        "1 Sample Street",
        "Leeds",
        "LS1 1AA",
        "West Yorkshire",
        "United Kingdom",
        "Prospect",  # HubSpot's PROSPECT through account_type_map
        "COMPUTER_SOFTWARE",
    )
    # numberofemployees, annualrevenue and the custom region/segment are not in this portal
    assert "BillingStreet" not in src.dropped_fields.get("Account", [])
    assert {"NumberOfEmployees", "AnnualRevenue"} <= set(src.dropped_fields["Account"])


def test_company_type_values_map_to_account_type_labels_both_ways():
    """HubSpot's internal company ``type`` values (its default options) arrive as the Account.Type
    picklist labels (hubspot.yaml ``account_type_map``); an option the map lacks passes through
    as it is (the picklist check then names it); a write maps the label back."""
    session, adapter = replay_session(FIXTURES / "hubspot")
    src = HubSpotSource(HubSpotClient("pat-na1-test", session=session, sleep=lambda s: None))
    names = ["hs_lastmodifieddate", "hs_object_id", "name", "type"]
    adapter.add("GET", "/crm/v3/properties/companies", {"results": [{"name": n} for n in names]})
    raw = ["PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER", "CUSTOMER_SUCCESS_TEAM", None]
    adapter.add(
        "POST",
        "/crm/v3/objects/companies/search",
        {
            "total": len(raw),
            "results": [
                {
                    "id": str(5100 + i),
                    "properties": {
                        "hs_lastmodifieddate": f"2026-10-05T10:00:0{i}.000Z",
                        "hs_object_id": str(5100 + i),
                        "name": f"Sample Company {i}",
                        "type": value,
                    },
                }
                for i, value in enumerate(raw)
            ],
        },
    )
    (page,) = list(
        src.read_changes("Account", ["Id", "Name", "Type", "SystemModstamp"], "SystemModstamp", None, UNTIL)
    )
    assert [r["Type"] for r in page] == [
        "Prospect",
        "Partner",
        "Reseller",
        "Vendor",
        "Other",
        "CUSTOMER_SUCCESS_TEAM",
        None,
    ]
    assert src._to_properties("Account", {"Id": "5101", "Type": "Reseller"}, 0) == {"type": "RESELLER"}
    with pytest.raises(ValueError, match=r"Type='Customer' has no HubSpot value in account_type_map"):
        src._to_properties("Account", {"Id": "5101", "Type": "Customer"}, 0)
