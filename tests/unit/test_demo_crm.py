"""Demo CRM: determinism, read API, advance/change log, writes, schema drift and exact ground truth.

One small org is seeded per module; tests that change data work on copies of the file.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from salesops.config import get_object, policy
from salesops.sources.base import CrmSource, SourceError
from salesops_demo import DemoCrm
from salesops_demo.__main__ import main as cli_main
from salesops_demo.generate import resolve_size
from salesops_demo.store import objects_by_api


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> DemoCrm:
    return DemoCrm.seed("small", seed=42, path=tmp_path_factory.mktemp("demo") / "crm.duckdb")


def _copy(crm: DemoCrm, tmp_path_factory, name: str) -> DemoCrm:
    target = tmp_path_factory.mktemp(name) / "crm.duckdb"
    shutil.copy(crm.path, target)
    return DemoCrm(target)


@pytest.fixture(scope="module")
def advanced(seeded, tmp_path_factory):
    """A copy advanced by 7 days: (crm, clock before, clock after, result)."""
    crm = _copy(seeded, tmp_path_factory, "demo_adv")
    before = crm.server_time()
    result = crm.advance(7)
    return crm, before, crm.server_time(), result


def _table(crm: DemoCrm, api: str) -> pd.DataFrame:
    con = duckdb.connect(str(crm.path), read_only=True)
    try:
        return con.sql(f'SELECT * FROM "{api}"').df()
    finally:
        con.close()


def _read_all(crm: DemoCrm, api: str, since=None, until=None, page_size=50_000, fields=None) -> pa.Table:
    obj = objects_by_api()[api]
    pages = list(
        crm.read_changes(
            api, fields or obj.api_fields, obj.cursor, since, until or crm.server_time(), page_size=page_size
        )
    )
    return pa.concat_tables(pages) if pages else pa.table({})


# ---------------------------------------------------------------------------- determinism and size
def test_implements_source_protocol(seeded):
    assert isinstance(seeded, CrmSource)
    assert seeded.name == "demo"
    assert seeded.server_time() == datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def test_same_seed_same_data_different_seed_different(seeded, tmp_path):
    again = DemoCrm.seed("small", seed=42, path=tmp_path / "a.duckdb")
    other = DemoCrm.seed("small", seed=7, path=tmp_path / "b.duckdb")
    h = seeded.table_hashes()
    assert again.table_hashes() == h
    ho = other.table_hashes()
    for api in ("Opportunity", "Lead", "Contact", "Account", "Task"):
        assert ho[api] != h[api], api


def test_counts_small_and_sizes(seeded):
    c = seeded.summary()["counts"]
    assert c["Opportunity"] == 3000
    assert c["User"] == 75  # 9 teams x (5 AE + 2 SDR + manager) + 3 RVPs
    assert 1400 <= c["Account"] <= 1600
    assert 3500 <= c["Contact"] <= 4500
    assert 5500 <= c["Lead"] <= 6500
    assert (
        resolve_size("medium") == 50_000 and resolve_size("large") == 1_000_000 and resolve_size(1234) == 1234
    )
    with pytest.raises(ValueError, match="unknown demo size 'huge'"):
        resolve_size("huge")


def test_int_size_and_users_hierarchy(tmp_path):
    crm = DemoCrm.seed(300, seed=1, path=tmp_path / "s.duckdb")
    assert crm.summary()["counts"]["Opportunity"] == 300
    users = _table(crm, "User").set_index("Id")
    reps = users[users["UserRole"].isin(["Account Executive", "SDR"])]
    mgr = users.loc[reps["ManagerId"]]
    assert (mgr["UserRole"] == "Sales Manager").all() and (
        mgr["Team__c"].to_numpy() == reps["Team__c"].to_numpy()
    ).all()
    assert (users.loc[mgr["ManagerId"], "UserRole"] == "Regional VP").all()
    assert set(users["Team__c"].dropna()) == {r["team"] for r in policy("territories")["routing_rules"]}
    assert users["Name"].str.match(r"^Demo (Rep \d{3}|Manager [A-Z]+-[A-Z]+|RVP [A-Z]+)$").all()


# ---------------------------------------------------------------------------- read API
def test_read_changes_paging_order_and_bounds(seeded):
    until = seeded.server_time()
    pages = list(
        seeded.read_changes(
            "Opportunity", ["Id", "SystemModstamp"], "SystemModstamp", None, until, page_size=700
        )
    )
    assert [p.num_rows for p in pages] == [700, 700, 700, 700, 200]
    allrows = pa.concat_tables(pages).to_pandas()
    assert allrows["Id"].is_unique and len(allrows) == 3000
    keys = list(zip(allrows["SystemModstamp"], allrows["Id"], strict=True))
    assert keys == sorted(keys)
    # since is exclusive, until inclusive: split at an existing cursor value
    t_text = allrows["SystemModstamp"].iloc[1500]
    t = datetime.strptime(t_text, "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC)
    left = _read_all(seeded, "Opportunity", None, t, fields=["Id", "SystemModstamp"]).to_pandas()
    right = _read_all(seeded, "Opportunity", t, until, fields=["Id", "SystemModstamp"]).to_pandas()
    assert (left["SystemModstamp"] <= t_text).all() and (left["SystemModstamp"] == t_text).any()
    assert (right["SystemModstamp"] > t_text).all()
    assert len(left) + len(right) == 3000
    assert list(seeded.read_changes("Opportunity", ["Id"], "SystemModstamp", until, until)) == []


def test_read_changes_text_formats(seeded):
    checks = {
        "date": r"^\d{4}-\d{2}-\d{2}$",
        "timestamp": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$",
        "decimal": r"^-?\d+\.\d{2}$",
        "bool": r"^(true|false)$",
        "int": r"^-?\d+$",
        "double": r"^-?\d+(\.\d+)?$",
    }
    con = duckdb.connect(str(seeded.path), read_only=True)
    malformed = set(con.execute("SELECT Id || '.' || field FROM malformed_values").fetchall())
    con.close()
    malformed = {m[0] for m in malformed}
    for api in ("Opportunity", "Lead", "Task", "OpportunityLineItem", "ForecastingQuota", "CampaignMember"):
        obj = objects_by_api()[api]
        t = _read_all(seeded, api)
        assert t.schema.names == obj.api_fields
        assert all(f.type == pa.string() for f in t.schema)
        df = t.to_pandas()
        for f in obj.fields:
            if f.type in checks:
                vals = df[[f.api_name, "Id"]].dropna()
                vals = vals[~(vals["Id"] + "." + f.api_name).isin(malformed)]
                bad = vals[~vals[f.api_name].str.match(checks[f.type])]
                assert bad.empty, (api, f.api_name, bad.head(3).to_dict("records"))


def test_malformed_values_overlay_and_unknown_fields(seeded):
    con = duckdb.connect(str(seeded.path), read_only=True)
    bad = con.sql("SELECT * FROM malformed_values").df()
    con.close()
    assert set(bad["api_name"]) == {"Opportunity", "Lead"} and len(bad) >= 5
    for api, grp in bad.groupby("api_name"):
        df = _read_all(seeded, api, fields=["Id", *grp["field"].unique(), "NoSuchField__c"]).to_pandas()
        assert "NoSuchField__c" not in df.columns
        got = df.set_index("Id")
        for r in grp.itertuples():
            assert got.at[r.Id, r.field] == r.value
    with pytest.raises(SourceError, match="NoSuchObject"):
        list(seeded.read_changes("NoSuchObject", ["Id"], "SystemModstamp", None, seeded.server_time()))


def test_get_records(seeded):
    recs = seeded.get_records(
        "Opportunity",
        ["006DM0000000000002", "006DM0000000000001", "006XX0000000000000"],
        ["StageName", "Amount"],
    )
    assert [r["Id"] for r in recs] == ["006DM0000000000001", "006DM0000000000002"]
    assert set(recs[0]) == {"Id", "StageName", "Amount"}
    assert re.match(r"^\d+\.\d{2}$", recs[0]["Amount"])


# ---------------------------------------------------------------------------- advance and change log
def test_advance_change_log_matches_cursor_moves(advanced):
    crm, before, after, result = advanced
    assert after == before + timedelta(days=7)
    log = crm.change_log()
    assert (log["origin"] == "simulation").all() and log["seq"].is_monotonic_increasing
    assert log["changed_at"].min() > before.replace(tzinfo=None) and log["changed_at"].max() <= after.replace(
        tzinfo=None
    )
    for api in objects_by_api():
        moved = set(
            _read_all(crm, api, before, after, fields=["Id"]).to_pandas().get("Id", pd.Series(dtype=str))
        )
        logged = set(log.loc[(log["object"] == api) & (log["change_type"] != "delete"), "record_id"])
        assert moved == logged, api
        deleted = {d.id for d in crm.read_deleted(api, before, after)}
        assert deleted == set(
            log.loc[(log["object"] == api) & (log["change_type"] == "delete"), "record_id"]
        ), api
        if deleted:
            assert crm.get_records(api, sorted(deleted), ["Id"]) == []
            assert crm.read_deleted(api, after, after + timedelta(days=1)) == []
    counts = result["changes"]
    for obj in (
        "Opportunity",
        "Lead",
        "Task",
        "OpportunityFieldHistory",
        "LifecycleStageChange",
        "CampaignMember",
    ):
        assert counts[obj].get("insert", 0) + counts[obj].get("update", 0) > 0, obj
    assert counts["Opportunity"]["update"] > 100 and counts["FinanceBooking"]["insert"] > 0
    assert sum(v.get("delete", 0) for v in counts.values()) > 0


# Every table of the small demo (seed 42) after advance(7), as the per-event pandas simulation wrote
# it before advance() went set-wise for 1 M opportunities (issue 17): the rewrite must not change a
# byte of the demo. A deliberate change to the simulation updates this digest in the same commit.
# Updated when the manifest gained columns the demo stores empty (Lead/Contact postal address,
# CurrencyIsoCode, CurrencyType, DatedConversionRate): every earlier column of all 22 tables hashed
# the same before and after. Updated again when the manifest gained the product catalogue (issue 15:
# Product2, Pricebook2, PricebookEntry, Opportunity.Pricebook2Id, OpportunityLineItem.Product2Id /
# PricebookEntryId / ListPrice / Discount), which the demo stores empty: without those tables and
# columns the digest is the previous one, b6d396cd003d8a9ce87f8f9e2b9cb9870b2e3f1e7b77f9809fdfb6f21e58f053.
# Updated again when ForecastingQuota and FinanceBooking gained CurrencyIsoCode (issue 13; the
# single-currency demo stores it empty): with those two columns excluded the digest is the previous
# one, 8f58c359bc66cf0d3d788a4b1a63d56c570aaf221105babf6cd114d0a06d11eb.
# Updated again when the manifest gained Account.Type / Rating / BillingStreet / BillingCity /
# BillingPostalCode / BillingState and Lead.Industry / Rating (issue 15; the demo stores them empty:
# 0 non-null values): with those eight columns excluded the digest is the previous one,
# 13ae82a9c22cd79dfe9f6585dfd5aceccc2e422863780441ffaff948437c933f.
# Updated again when the manifest gained Contact.Birthdate (issue 15, duplicate matching; the demo
# stores it empty: 0 non-null values): with it excluded the digest is the previous one,
# 8a3a7e0815b3083b1c72724f003649281a3c5b1bf920a8c161c96b08f24c8732.
ADVANCED_SMALL_DIGEST = "5895b46d0732b6c5bab752e660a669750f485039e36d072685decaf9fe479fd7"


def test_advance_output_identical_to_the_per_event_simulation(advanced):
    crm, _before, _after, result = advanced
    assert result["changes"]["Opportunity"] == {"delete": 1, "insert": 98, "update": 1693}
    assert result["changes"]["Lead"] == {"delete": 5, "insert": 102, "update": 374}
    con = duckdb.connect(str(crm.path), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute("select table_name from information_schema.tables order by 1").fetchall()
        ]
        digests = {
            t: hashlib.sha256(
                repr(con.sql(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()).encode()
            ).hexdigest()[:16]
            for t in tables
        }
    finally:
        con.close()
    assert hashlib.sha256(repr(sorted(digests.items())).encode()).hexdigest() == ADVANCED_SMALL_DIGEST, (
        digests
    )


def test_advance_keeps_last_activity_equal_to_latest_activity(advanced):
    crm = advanced[0]
    opp = _table(crm, "Opportunity").set_index("Id")
    acts = pd.concat(
        [_table(crm, "Task")[["WhatId", "ActivityDate"]], _table(crm, "Event")[["WhatId", "ActivityDate"]]]
    )
    latest = acts.groupby("WhatId")["ActivityDate"].max()
    joined = opp[["LastActivityDate"]].join(latest.rename("latest"))
    mismatch = joined[joined["LastActivityDate"].ne(joined["latest"]) & joined["latest"].notna()]
    assert mismatch.empty, mismatch.head()
    assert joined.loc[joined["latest"].isna(), "LastActivityDate"].isna().all()


# ---------------------------------------------------------------------------- ground truth
def _independent_defects(crm: DemoCrm) -> set[tuple[str, str, str]]:
    """Re-derive the rule-based defects in pandas, without the demo's SQL."""
    st = policy("stages")
    hyg = policy("hygiene")
    terr = policy("territories")
    as_of = pd.Timestamp(crm.server_time().date())
    stages = {s["name"]: s for s in st["stages"]}
    opp = _table(crm, "Opportunity")
    items = set(_table(crm, "OpportunityLineItem")["OpportunityId"])
    hist = _table(crm, "OpportunityFieldHistory")
    ch = hist[hist["Field"] == "CloseDate"]
    pushes = (
        ch[pd.to_datetime(ch["NewValue"]) > pd.to_datetime(ch["OldValue"])].groupby("OpportunityId").size()
    )
    accounts = set(_table(crm, "Account")["Id"])
    users = _table(crm, "User").set_index("Id")
    out: set[tuple[str, str, str]] = set()

    def blank(v) -> bool:
        return (
            v is None
            or (isinstance(v, float) and pd.isna(v))
            or (isinstance(v, str) and not v.strip())
            or v is pd.NaT
        )

    for r in opp.itertuples():
        s = stages[r.StageName]
        for f in s["required_fields"]:
            missing = (r.Id not in items) if f == "Products" else blank(getattr(r, f))
            if missing:
                out.add((r.Id, "opp_missing_required_field", f))
        if not r.IsClosed:
            if not pd.isna(r.CloseDate) and r.CloseDate < as_of - pd.Timedelta(
                days=hyg["close_date"]["past_due_grace_days"]
            ):
                out.add((r.Id, "opp_past_close_date", ""))
            if pd.isna(r.LastActivityDate) or r.LastActivityDate < as_of - pd.Timedelta(
                days=hyg["stale_opportunity"]["days_without_activity"]
            ):
                out.add((r.Id, "opp_stale", ""))
            if s["order"] >= hyg["next_step"]["required_from_stage_order"] and blank(r.NextStep):
                out.add((r.Id, "opp_missing_next_step", ""))
        if pushes.get(r.Id, 0) > hyg["close_date"]["max_pushes"]:
            out.add((r.Id, "opp_close_date_pushed", ""))
        if not blank(r.ForecastCategoryName) and r.ForecastCategoryName not in s["forecast_categories"]:
            out.add((r.Id, "opp_forecast_category_mismatch", ""))
        if not pd.isna(r.Amount):
            lost_zero = (
                hyg["amount"].get("closed_lost_zero_allowed", False)
                and s["is_closed"]
                and not s["is_won"]
                and r.Amount == 0
            )
            if r.Amount <= hyg["amount"]["min_exclusive"] and not lost_zero:
                out.add((r.Id, "opp_amount_invalid", "non_positive"))
            elif r.Amount > hyg["amount"]["outlier_max"]:
                out.add((r.Id, "opp_amount_invalid", "outlier"))
        if not blank(r.Type) and r.Type not in st["picklists"]["opportunity_type"]:
            out.add((r.Id, "opp_invalid_picklist", "Type"))
        if not blank(r.LeadSource) and r.LeadSource not in st["picklists"]["lead_source"]:
            out.add((r.Id, "opp_invalid_picklist", "LeadSource"))
        if not blank(r.AccountId) and r.AccountId not in accounts:
            out.add((r.Id, "opp_orphan_account", ""))
        if not blank(r.OwnerId) and r.OwnerId not in users.index:
            out.add((r.Id, "opp_orphan_owner", ""))

    country_region = {c: reg for reg, cs in terr["regions"].items() for c in cs}
    team_for = {(r["segment"], r["region"]): r["team"] for r in terr["routing_rules"]}
    segs = sorted(terr["segments"], key=lambda s: s["min_employees"])
    email = re.compile(hyg["email"]["pattern"])
    for r in _table(crm, "Lead").itertuples():
        seg = [s["name"] for s in segs if r.NumberOfEmployees >= s["min_employees"]][-1]
        if blank(r.OwnerId) and not r.IsConverted:
            out.add((r.Id, "lead_unassigned", ""))
        if not blank(r.OwnerId) and r.OwnerId in users.index:
            expected = team_for[(seg, country_region[r.Country])]
            if users.at[r.OwnerId, "Team__c"] != expected:
                out.add((r.Id, "lead_misrouted", ""))
        if not pd.isna(r.Assigned_At__c):
            hours = (r.Assigned_At__c - r.CreatedDate).total_seconds() / 3600
            if hours > terr["sla"]["assignment_hours"][seg]:
                out.add((r.Id, "lead_sla_breach", ""))
        if not blank(r.Email) and not email.fullmatch(r.Email):
            out.add((r.Id, "lead_invalid_email", ""))
    for r in _table(crm, "Contact").itertuples():
        if not blank(r.Email) and not email.fullmatch(r.Email):
            out.add((r.Id, "contact_invalid_email", ""))
        if not blank(r.AccountId) and r.AccountId not in accounts:
            out.add((r.Id, "contact_orphan_account", ""))
    return out


_DETAIL_KEPT = {"opp_missing_required_field", "opp_amount_invalid", "opp_invalid_picklist"}


def _gt_rule_set(crm: DemoCrm) -> set[tuple[str, str, str]]:
    gt = crm.ground_truth()
    rules = gt[
        gt["defect"].str.startswith(("opp_", "lead_", "contact_"))
        & ~gt["defect"].isin(["lead_duplicate", "contact_duplicate"])
    ]
    return {(r.record_id, r.defect, r.detail if r.defect in _DETAIL_KEPT else "") for r in rules.itertuples()}


def test_ground_truth_equals_injected_at_seed(seeded):
    con = duckdb.connect(str(seeded.path), read_only=True)
    injected = con.sql("SELECT object, record_id, defect FROM injected_defects").df()
    con.close()
    gt = seeded.ground_truth()
    assert not gt.duplicated(["object", "record_id"]).any(), "one defect per record at seed"
    assert set(map(tuple, gt[["object", "record_id", "defect"]].to_numpy())) == set(
        map(tuple, injected.to_numpy())
    )
    cfg_defects = {
        d
        for o, v in __import__("salesops_demo.generate", fromlist=["x"]).demo_config()["defects"].items()
        if o != "malformed_value"
        for d in v
    } | {"malformed_value"}
    assert set(gt["defect"]) == cfg_defects


@pytest.mark.parametrize("which", ["seeded", "advanced"])
def test_ground_truth_rules_match_independent_check(which, seeded, advanced):
    crm = seeded if which == "seeded" else advanced[0]
    assert _gt_rule_set(crm) == _independent_defects(crm)


@pytest.mark.parametrize("which", ["seeded", "advanced"])
def test_clean_open_opportunities_are_clean(which, seeded, advanced):
    crm = seeded if which == "seeded" else advanced[0]
    as_of = pd.Timestamp(crm.server_time().date())
    gt = crm.ground_truth()
    opp = _table(crm, "Opportunity")
    flagged = set(gt["record_id"])
    clean_open = opp[~opp["IsClosed"] & ~opp["Id"].isin(flagged)]
    assert len(clean_open) > 1000
    assert (clean_open["CloseDate"] >= as_of).all()
    # margin: a clean deal is never close to the stale threshold (boundary conventions agree)
    assert (clean_open["LastActivityDate"] >= as_of - pd.Timedelta(days=20)).all()
    past = opp[opp["Id"].isin(gt.loc[gt["defect"] == "opp_past_close_date", "record_id"])]
    assert len(past) > 0 and (~past["IsClosed"] & (past["CloseDate"] < as_of)).all()
    stale = opp[opp["Id"].isin(gt.loc[gt["defect"] == "opp_stale", "record_id"])]
    assert (
        len(stale) > 0
        and (~stale["IsClosed"] & ~(stale["LastActivityDate"] >= as_of - pd.Timedelta(days=30))).all()
    )


def test_advance_keeps_time_dependent_defects(seeded, advanced):
    before, after = seeded.ground_truth(), advanced[0].ground_truth()
    for defect in ("opp_past_close_date", "opp_close_date_pushed", "booking_orphan", "account_duplicate"):
        b = set(before.loc[before["defect"] == defect, "record_id"])
        a = set(after.loc[after["defect"] == defect, "record_id"])
        assert b <= a, defect


def test_bookings_and_duplicates_ground_truth(seeded):
    gt = seeded.ground_truth()
    opp = _table(seeded, "Opportunity").set_index("Id")
    bk = _table(seeded, "FinanceBooking")
    mm = gt[gt["defect"] == "booking_amount_mismatch"]
    for r in mm.itertuples():
        b = bk.set_index("Id").loc[r.related_id]
        assert b["OpportunityId"] == r.record_id and b["Amount"] != opp.at[r.record_id, "Amount"]
    won = opp[opp["IsWon"]]
    assert set(won.index.difference(bk["OpportunityId"])) == set(
        gt.loc[gt["defect"] == "booking_missing", "record_id"]
    )
    orphan = bk[~bk["OpportunityId"].isin(opp.index)]
    assert set(orphan["Id"]) == set(gt.loc[gt["defect"] == "booking_orphan", "record_id"])
    clean_won = won[~won.index.isin(gt["record_id"])]
    merged = clean_won.join(bk.set_index("OpportunityId")["Amount"].rename("booked"))
    assert (merged["Amount"] == merged["booked"]).all()


def _norm_email(e: str) -> str:
    local, _, domain = e.lower().partition("@")
    return local.split("+")[0] + "@" + domain


_LEGAL = r"\b(inc|incorporated|ltd|limited|corp|corporation|llc|gmbh)\b"


def _norm_text(s: str) -> str:
    """Lower case, legal suffixes dropped, only letters and digits (what a matcher normalises)."""
    return re.sub(r"[^a-z0-9]", "", re.sub(_LEGAL, "", s.lower()))


@pytest.mark.parametrize("api", ["Lead", "Contact", "Account"])
def test_duplicates_are_exact_pairs_and_clean_records_are_far_apart(api, seeded):
    from rapidfuzz import fuzz, process

    gt = seeded.ground_truth()
    dups = gt[gt["defect"] == f"{api.lower()}_duplicate"]
    df = _table(seeded, api).set_index("Id")
    assert len(dups) > 10
    kinds = set(dups["detail"])
    assert {"exact", "fuzzy:case", "fuzzy:punctuation", "fuzzy:typo"} <= kinds
    if api == "Account":
        key = df["Name"]
        assert "fuzzy:company_suffix" in kinds
    else:
        key = df["FirstName"] + " " + df["LastName"] + (" " + df["Company"] if api == "Lead" else "")
        assert "fuzzy:email_alias" in kinds
    for r in dups.itertuples():
        same_email = api != "Account" and _norm_email(df.at[r.record_id, "Email"]) == _norm_email(
            df.at[r.related_id, "Email"]
        )
        sim = fuzz.ratio(_norm_text(key[r.record_id]), _norm_text(key[r.related_id]))
        assert same_email or sim >= 85, (r.record_id, r.detail, key[r.record_id], key[r.related_id])
    clean = key[~key.index.isin(dups["record_id"])]
    norm = clean.map(_norm_text)
    assert norm.is_unique
    if api != "Account":
        emails = df.loc[clean.index, "Email"].map(_norm_email)
        assert emails.is_unique
    # no two clean names are fuzzy-close (block by first letter to keep the test fast)
    for _, block in norm.groupby(norm.str[:1]):
        vals = block.tolist()
        if len(vals) < 2:
            continue
        m = process.cdist(vals, vals, scorer=fuzz.ratio, score_cutoff=85)
        assert (m > 0).sum() == len(vals), "clean records closer than the fuzzy threshold"


# ---------------------------------------------------------------------------- writes
@pytest.fixture()
def writable(seeded, tmp_path_factory) -> DemoCrm:
    return _copy(seeded, tmp_path_factory, "demo_w")


def test_update_records_results_history_and_modstamp(writable):
    crm = writable
    opp = _table(crm, "Opportunity")
    open_ids = (
        opp.loc[~opp["IsClosed"] & (opp["StageName"] == "Qualification"), "Id"].sort_values().tolist()[:6]
    )
    clock = crm.server_time()
    crm.inject_faults(transient_ids={open_ids[3]: 2}, permanent_ids={open_ids[4]})
    con = duckdb.connect(str(crm.path), read_only=True)
    deleted_free = con.execute("SELECT 1").fetchall()
    con.close()
    assert deleted_free
    res = crm.update_records(
        "Opportunity",
        [
            {"Id": open_ids[0], "StageName": "Closed Won"},
            {
                "Id": open_ids[1],
                "Amount": "12345.67",
                "CloseDate": "2027-01-15",
                "ForecastCategoryName": "Pipeline",
            },
            {"Id": open_ids[2], "Type": "Upsell", "NoSuchField__c": "x", "IsWon": "true"},
            {"Id": open_ids[3], "NextStep": "call"},
            {"Id": open_ids[4], "NextStep": "call"},
            {"Id": "006DM9999999999999", "NextStep": "call"},
            {"Id": open_ids[5], "ForecastCategoryName": "Maybe"},
        ],
    )
    assert [r.success for r in res] == [True, True, False, False, False, False, False]
    assert res[2].errors == [
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Type: bad value for restricted picklist field: 'Upsell'",
        "INVALID_FIELD: NoSuchField__c",
        "INVALID_FIELD_FOR_INSERT_UPDATE: IsWon is not writeable",
    ]
    assert res[3].transient and res[3].errors[0].startswith("UNABLE_TO_LOCK_ROW")
    assert not res[4].transient and not res[5].transient
    assert res[5].errors[0].startswith("INVALID_ID")
    assert res[6].errors[0].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: ForecastCategoryName")
    stamp = clock + timedelta(seconds=1)
    assert crm.server_time() == stamp
    a, b = crm.get_records(
        "Opportunity",
        open_ids[:2],
        [
            "StageName",
            "IsClosed",
            "IsWon",
            "Probability",
            "ForecastCategoryName",
            "Amount",
            "CloseDate",
            "SystemModstamp",
        ],
    )
    assert (a["StageName"], a["IsClosed"], a["IsWon"], a["Probability"], a["ForecastCategoryName"]) == (
        "Closed Won",
        "true",
        "true",
        "100.0",
        "Closed",
    )
    assert (b["Amount"], b["CloseDate"], b["SystemModstamp"]) == (
        "12345.67",
        "2027-01-15",
        "2026-11-02T06:00:01.000+0000",
    )
    # the next incremental extract sees exactly the two updated deals
    changed = _read_all(crm, "Opportunity", clock, crm.server_time(), fields=["Id"]).to_pandas()
    assert sorted(changed["Id"]) == sorted(open_ids[:2])
    hist = _read_all(crm, "OpportunityFieldHistory", clock, crm.server_time()).to_pandas()
    assert set(zip(hist["OpportunityId"], hist["Field"], strict=True)) >= {
        (open_ids[0], "StageName"),
        (open_ids[0], "ForecastCategoryName"),
        (open_ids[1], "Amount"),
        (open_ids[1], "CloseDate"),
    }
    log = crm.change_log()
    assert set(log.loc[(log["object"] == "Opportunity"), "record_id"]) == set(open_ids[:2])
    assert (log["origin"] == "api").all()
    # transient faults clear after their count; permanent ones stay
    r1 = crm.update_records("Opportunity", [{"Id": open_ids[3], "NextStep": "call"}])
    r2 = crm.update_records(
        "Opportunity", [{"Id": open_ids[3], "NextStep": "call"}, {"Id": open_ids[4], "NextStep": "x"}]
    )
    assert r1[0].transient and r2[0].success and not r2[1].success
    # a won deal without booking is now a finance discrepancy in the ground truth
    gt = crm.ground_truth()
    assert ((gt["record_id"] == open_ids[0]) & (gt["defect"] == "booking_missing")).any()


def test_update_deleted_record_and_malformed_fix(advanced, tmp_path_factory):
    crm = _copy(advanced[0], tmp_path_factory, "demo_w2")
    log = crm.change_log()
    gone = log.loc[(log["object"] == "Opportunity") & (log["change_type"] == "delete"), "record_id"].iloc[0]
    res = crm.update_records("Opportunity", [{"Id": gone, "NextStep": "x"}])
    assert res[0].errors == ["ENTITY_IS_DELETED: entity is deleted"]
    con = duckdb.connect(str(crm.path), read_only=True)
    bad = con.execute(
        "SELECT Id FROM malformed_values WHERE api_name='Opportunity' AND field='Amount'"
    ).fetchall()[0][0]
    con.close()
    assert crm.update_records("Opportunity", [{"Id": bad, "Amount": 15000}])[0].success
    assert crm.get_records("Opportunity", [bad], ["Amount"])[0]["Amount"] == "15000.00"
    gt = crm.ground_truth()
    assert not ((gt["record_id"] == bad) & (gt["defect"] == "malformed_value")).any()


def test_schema_drift(writable):
    crm = writable
    crm.alter_schema("Opportunity", add=["Region_Override__c"], drop=["NextStep"])
    t = _read_all(crm, "Opportunity", fields=["Id", "NextStep", "Amount"])
    assert t.schema.names == ["Id", "Amount", "Region_Override__c"]
    assert t.column("Region_Override__c").null_count == 0
    res = crm.update_records("Opportunity", [{"Id": "006DM0000000000001", "NextStep": "x"}])
    assert res[0].errors == ["INVALID_FIELD: NextStep"]
    with pytest.raises(SourceError, match="cursor"):
        crm.alter_schema("Opportunity", drop=["SystemModstamp"])
    crm.alter_schema("Opportunity", add=["NextStep"])  # re-adding a hidden field shows it again
    assert "NextStep" in _read_all(crm, "Opportunity", fields=["Id", "NextStep"]).schema.names
    # the simulation still runs with an extra column
    crm.advance(1)
    assert "Region_Override__c" in _read_all(crm, "Opportunity", fields=["Id"]).schema.names


def test_cli(tmp_path, capsys):
    path = tmp_path / "cli.duckdb"
    assert cli_main(["seed", "--size", "200", "--seed", "3", "--path", str(path)]) == 0
    out = capsys.readouterr().out
    assert "seeded" in out and "Opportunity 200" in out
    assert cli_main(["advance", "--days", "2", "--path", str(path)]) == 0
    assert "advanced 2 days" in capsys.readouterr().out
    assert cli_main(["ground-truth", "--out", str(tmp_path / "gt.csv"), "--path", str(path)]) == 0
    gt = pd.read_csv(tmp_path / "gt.csv")
    assert list(gt.columns) == ["object", "record_id", "defect", "detail", "related_id"] and len(gt) > 0
    assert cli_main(["summary", "--path", str(path)]) == 0
    assert "clock=2026-11-04T06:00:00Z" in capsys.readouterr().out


def test_opportunity_shapes(seeded):
    opp = _table(seeded, "Opportunity")
    acc = _table(seeded, "Account").set_index("Id")
    st = {s["name"]: s for s in policy("stages")["stages"]}
    assert (opp["Probability"] == opp["StageName"].map(lambda s: st[s]["probability"])).all()
    assert (opp["IsClosed"] == opp["StageName"].map(lambda s: st[s]["is_closed"])).all()
    ok = opp[opp["AccountId"].isin(acc.index) & (opp["Amount"] > 0) & (opp["Amount"] < 5e6)]
    seg = acc.loc[ok["AccountId"], "Segment__c"].to_numpy()
    rng = {"SMB": (5000, 30000), "MM": (30000, 150000), "ENT": (150000, 1500000)}
    assert all(rng[s][0] <= a <= rng[s][1] for s, a in zip(seg, ok["Amount"], strict=True))
    assert (opp["CreatedDate"] < opp["CloseDate"].fillna(pd.Timestamp.max)).all()
    li = _table(seeded, "OpportunityLineItem").groupby("OpportunityId")["TotalPrice"].sum()
    j = opp.set_index("Id").join(li.rename("items"), how="inner")
    assert (j["items"].round(2) == j["Amount"].round(2)).all()
    q = _table(seeded, "ForecastingQuota")
    assert set(q["StartDate"].dt.strftime("%m-%d")) <= {"02-01", "05-01", "08-01", "11-01"}
    assert get_object("opportunity").api_fields == list(opp.columns)
