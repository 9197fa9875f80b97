"""salesops.policy: every include/config file validates, the overlay rules, and readable errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from salesops import policy
from salesops.config import get_object
from salesops.policy import ConfigError, deep_merge


@pytest.fixture
def overlay(tmp_path, monkeypatch):
    """An empty overlay folder set as SALESOPS_CONFIG_DIR; policy caches reset around the test."""
    folder = tmp_path / "overlay"
    folder.mkdir()
    monkeypatch.setenv("SALESOPS_CONFIG_DIR", str(folder))
    policy.reset()
    yield folder
    monkeypatch.delenv("SALESOPS_CONFIG_DIR")
    policy.reset()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_shipped_policy_file_has_a_model_and_validates():
    shipped = sorted(
        p.relative_to(policy.base_dir()).with_suffix("").as_posix() for p in policy.base_dir().rglob("*.yaml")
    )
    assert shipped == sorted(policy.FILES)
    assert policy.validate_all(overlay=None) == []


def test_deep_merge_merges_mappings_and_replaces_lists_and_scalars():
    base = {"a": {"x": 1, "y": [1, 2], "z": {"p": 1, "q": 2}}, "b": [{"n": 1}], "c": 3}
    over = {"a": {"y": [9], "z": {"q": 5}}, "b": [], "c": None, "d": "new"}
    merged = deep_merge(base, over)
    assert merged == {"a": {"x": 1, "y": [9], "z": {"p": 1, "q": 5}}, "b": [], "c": None, "d": "new"}
    assert base["a"]["y"] == [1, 2] and base["a"]["z"] == {"p": 1, "q": 2}  # inputs untouched


def test_an_overlay_changes_only_the_keys_it_names(overlay):
    base_stages = policy.stages(overlay=None)
    _write(overlay, "stages.yaml", "picklists:\n  lead_source: [Web, Webinar]\n")
    _write(overlay, "quality.yaml", "checks:\n  opp_stale: {target: 0.25}\n")
    stages = policy.stages()
    assert stages.picklists["lead_source"] == ["Web", "Webinar"]  # the list is replaced, not appended
    assert stages.picklists["loss_reason"] == base_stages.picklists["loss_reason"]  # sibling kept
    assert [s.name for s in stages.stages] == [s.name for s in base_stages.stages]
    q = policy.quality()
    assert q.checks["opp_stale"].target == 0.25
    assert q.checks["opp_stale"].severity == "warn" and q.checks["opp_stale"].dimension == "pipeline_hygiene"
    assert policy.raw("stages")["picklists"]["lead_source"] == ["Web", "Webinar"]


def test_an_overlay_list_of_stages_replaces_the_whole_list(overlay):
    _write(
        overlay,
        "stages.yaml",
        "stages:\n"
        "  - {name: Open, order: 1, probability: 25, is_closed: false, is_won: false, forecast_categories: [Pipeline]}\n"
        "  - {name: Won, order: 2, probability: 100, is_closed: true, is_won: true, forecast_categories: [Closed]}\n",
    )
    assert [(s.name, s.probability) for s in policy.stages().stages] == [("Open", 25.0), ("Won", 100.0)]
    assert policy.stages().forecast_categories == policy.stages(overlay=None).forecast_categories


def test_policy_is_cached_until_reset(overlay):
    first = policy.hygiene()
    assert policy.hygiene() is first
    _write(overlay, "hygiene.yaml", "stale_opportunity: {days_without_activity: 45}\n")
    assert policy.hygiene() is first  # not re-read behind the caller's back
    policy.reset()
    assert policy.hygiene().stale_opportunity.days_without_activity == 45


def test_the_object_manifest_adapter_follows_the_overlay(overlay):
    assert get_object("opportunity").field("Amount").type == "decimal"
    _write(
        overlay,
        "objects.yaml",
        "objects:\n  - name: opportunity\n    api_name: Opportunity\n    system: crm\n    key: Id\n"
        "    cursor: SystemModstamp\n    fields:\n      Id: {column: id, type: id}\n"
        "      Amount: {column: amount, type: double}\n      SystemModstamp: {column: system_modstamp, type: timestamp}\n",
    )
    policy.reset()
    assert get_object("opportunity").field("Amount").type == "double"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "calendar.yaml",
            "fiscal_year_start_month: 13\n",
            r"overlay/calendar.yaml: fiscal_year_start_month: got 13; expected less than or equal to 12$",
        ),
        (
            "calendar.yaml",
            'fiscal_year_start_month: "2"\n',
            r"overlay/calendar.yaml: fiscal_year_start_month: got '2'; expected a valid integer$",
        ),
        (
            "quality.yaml",
            "checks:\n  opp_stale: {targt: 0.2}\n",
            r"overlay/quality.yaml: checks\.opp_stale\.targt: got unknown key 'targt'; "
            r"expected one of the known keys: description, dimension, engine, needs, object, queue, scopes, severity, target$",
        ),
        (
            "quality.yaml",
            "checks:\n  opp_stale: {severity: fatal}\n",
            r"overlay/quality.yaml: checks\.opp_stale\.severity: got 'fatal'; expected 'blocker' or 'warn'$",
        ),
        (
            "stages.yaml",
            "stages:\n  - {name: A, order: 1, probability: 20, is_closed: false, is_won: false, "
            "forecast_categories: [Maybe]}\n",
            r"overlay/stages.yaml: stages\[0\]\.forecast_categories: got 'Maybe'; "
            r"expected a value of the top-level forecast_categories \['Closed', 'Commit'",
        ),
        (
            "territories.yaml",
            "routing_rules:\n  - {segment: XL, region: AMER, team: AMER-XL}\n",
            r"overlay/territories.yaml: routing_rules\[0\]\.segment: got 'XL'; expected one of the segments "
            r"\['SMB', 'MM', 'ENT'\]$",
        ),
        (
            "packs.yaml",
            "packs:\n  dq_scorecard:\n    channels: [email, fax]\n",
            r"overlay/packs.yaml: packs\.dq_scorecard\.channels\[1\]: got 'fax'; expected 'email', 'slack' or 'file'$",
        ),
        (
            "sources/hubspot.yaml",
            "objects:\n  Opportunity:\n    hubspot_object: deals\n    fields:\n"
            "      StageName: {property: dealstage, value_map: stage_mapp}\n",
            r"overlay/sources/hubspot.yaml: objects\.Opportunity\.fields\.StageName\.value_map: got 'stage_mapp'; "
            r"expected one of value_maps",
        ),
        ("kpis.yaml", "rollup_levels: [rep, [\n", r"overlay/kpis.yaml: line 2 column 1 not valid YAML"),
        (
            "hygiene.yaml",
            "- a list\n",
            r"overlay/hygiene.yaml: \(top level\): got a list; expected a mapping",
        ),
    ],
)
def test_errors_name_the_file_key_path_value_and_expectation(overlay, name, text, message):
    _write(overlay, name, text)
    with pytest.raises(ConfigError, match=message) as info:
        policy.load(name)
    assert "pydantic" not in str(info.value) and "\n" not in str(info.value)


def test_errors_name_the_file_that_set_the_bad_value(overlay):
    # The overlay shortens the forecast category list; the stage still allowing Commit is set by
    # include/config/stages.yaml, so that is the file the message names.
    _write(overlay, "stages.yaml", "forecast_categories: [Closed, Pipeline, Omitted, Best Case]\n")
    with pytest.raises(
        ConfigError,
        match=r"^include/config/stages.yaml: stages\[4\]\.forecast_categories: got 'Commit'; "
        r"expected a value of the top-level forecast_categories \['Closed', 'Pipeline', 'Omitted', 'Best Case'\]$",
    ):
        policy.stages()
    # a required key missing from an element of a list the overlay replaced is the overlay's
    _write(
        overlay,
        "metrics.yaml",
        "metrics:\n  - {name: x, label: X, definition: d, grain: g, model: m, column: c}\n",
    )
    with pytest.raises(
        ConfigError, match=r"^\S*overlay/metrics.yaml: metrics\[0\]\.unit: got nothing; expected a value"
    ):
        policy.metrics()


def test_a_missing_overlay_folder_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SALESOPS_CONFIG_DIR", str(tmp_path / "nope"))
    policy.reset()
    try:
        with pytest.raises(ConfigError, match=r"SALESOPS_CONFIG_DIR=.*/nope: no such folder"):
            policy.stages()
    finally:
        monkeypatch.delenv("SALESOPS_CONFIG_DIR")
        policy.reset()


def test_an_overlay_file_that_overrides_nothing_is_reported(overlay, caplog):
    _write(overlay, "stage.yaml", "stages: []\n")
    with caplog.at_level(logging.WARNING, logger="salesops.policy.loader"):
        policy.stages()
    assert "stage.yaml overrides no policy file" in caplog.text


def test_unknown_policy_file_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown policy file 'stagse'.*'stages.yaml'"):
        policy.load("stagse")


def test_a_stage_without_required_fields_has_none_and_nothing_crashes(overlay):
    """required_fields is optional (the model defaults it to []): the dict-style readers of the
    quality run and the KPI seeds see the same default instead of a KeyError."""
    _write(
        overlay,
        "stages.yaml",
        "stages:\n"
        "  - {name: Open, order: 1, probability: 10, is_closed: false, is_won: false, forecast_categories: [Pipeline]}\n"
        "  - {name: Won, order: 2, probability: 100, is_closed: true, is_won: true, forecast_categories: [Closed],\n"
        "     required_fields: [Amount]}\n"
        "  - {name: Lost, order: 3, probability: 0, is_closed: true, is_won: false, forecast_categories: [Omitted]}\n",
    )
    from salesops.kpis.policy import load_policy
    from salesops.quality.catalogue import load_config, policy_context
    from salesops.quality.expectations import _opportunity_specs
    from salesops.quality.runner import _check_needs

    assert [s.required_fields for s in policy.stages().stages] == [[], ["Amount"], []]
    assert [s["required_fields"] for s in policy.raw("stages")["stages"]] == [[], ["Amount"], []]
    cfg = load_config()
    assert ("opportunity", ("Amount",)) in _check_needs(cfg.checks["opp_missing_required_field"], cfg)
    required = [s for s in _opportunity_specs(cfg) if s.check == "opp_missing_required_field"]
    assert [(s.detail, s.condition) for s in required] == [("Amount", (("stage_name", "in", ("Won",)),))]
    assert [s["name"] for s in policy_context(cfg)["stages"]] == ["'Open'", "'Won'", "'Lost'"]
    assert [s["required_fields"] for s in load_policy().stages] == [[], ["Amount"], []]


def test_picklists_on_commonly_exported_account_and_lead_fields(overlay):
    """Account.Type / Rating / Industry and Lead.Industry / Rating are manifest fields: an overlay
    naming them loads (before: "'Type' is not a field of Account in objects.yaml")."""
    _write(
        overlay,
        "stages.yaml",
        "picklists:\n"
        "  Account.Type: [Customer, Prospect, Partner]\n"
        "  Account.Rating: [Hot, Warm, Cold]\n"
        "  Account.Industry: [Retail, Logistics]\n"
        "  Lead.Industry: [Retail, Logistics]\n"
        "  Lead.Rating: [Hot, Warm, Cold]\n",
    )
    from salesops.quality.catalogue import load_config

    load_config()
    account = get_object("account")
    assert {
        "Type",
        "Rating",
        "Industry",
        "BillingStreet",
        "BillingCity",
        "BillingPostalCode",
        "BillingState",
    } <= set(account.api_fields)
    assert {"Industry", "Rating"} <= set(get_object("lead").api_fields)


def test_on_bad_value_warn_is_only_for_optional_typed_fields_and_ships_only_on_birthdate():
    """objects.yaml ``on_bad_value: warn`` loads a record whose value of that field does not parse
    (the field empty, a warning in ops.quarantine). Issue 15 allows it for an optional field no
    metric or check reads: the shipped manifest marks only Contact.Birthdate, and the model refuses
    it for required, key, cursor and id/string fields."""
    from pydantic import ValidationError

    from salesops.config import object_manifest
    from salesops.policy.models.objects import FieldModel, ObjectModel

    warned = {
        (o.api_name, f.api_name)
        for o in object_manifest().values()
        for f in o.fields
        if f.on_bad_value == "warn"
    }
    assert warned == {("Contact", "Birthdate")}
    assert get_object("opportunity").field("Amount").on_bad_value == "quarantine"
    with pytest.raises(ValidationError, match="quarantine for a required field"):
        FieldModel.model_validate(
            {"column": "close_date", "type": "date", "required": True, "on_bad_value": "warn"}
        )
    with pytest.raises(ValidationError, match="it always parses"):
        FieldModel.model_validate({"column": "title", "type": "string", "on_bad_value": "warn"})
    with pytest.raises(ValidationError, match="on_bad_value"):
        FieldModel.model_validate({"column": "birthdate", "type": "date", "on_bad_value": "drop"})
    with pytest.raises(ValidationError, match="quarantine for the cursor"):
        ObjectModel.model_validate(
            {
                "name": "thing",
                "api_name": "Thing",
                "system": "crm",
                "key": "Id",
                "cursor": "Stamp",
                "fields": {
                    "Id": {"column": "id", "type": "id", "required": False},
                    "Stamp": {"column": "stamp", "type": "timestamp", "on_bad_value": "warn"},
                },
            }
        )
