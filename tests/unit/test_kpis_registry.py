"""The metric registry: validation, definitions for packs, targets from policy, the glossary."""

from __future__ import annotations

import copy

import pytest
import yaml

from salesops import paths
from salesops.kpis import glossary
from salesops.kpis.registry import RegistryError, definition, get_metric, load_registry, parse_registry


def _raw():
    return yaml.safe_load((paths.CONFIG_DIR / "metrics.yaml").read_text())


def test_registry_covers_the_issue_metrics():
    names = set(load_registry())
    for needed in (
        "open_pipeline_amount",
        "pipeline_created_amount",
        "pipeline_coverage_ratio",
        "pipeline_movement_amount",
        "stage_to_next_conversion_rate",
        "avg_days_in_current_stage",
        "at_risk_opportunity_count",
        "win_rate_by_count",
        "win_rate_by_amount",
        "avg_sales_cycle_days",
        "avg_selling_price",
        "bookings_amount",
        "arr_added_amount",
        "commit_forecast_amount",
        "lead_to_mql_rate",
        "avg_hours_to_assignment",
        "avg_hours_to_first_touch",
        "routing_sla_compliance_rate",
        "required_field_completeness_rate",
        "pipeline_hygiene_compliance_rate",
        "bookings_variance_amount",
    ):
        assert needed in names, needed


def test_definition_names_denominator_exclusions_target_and_source():
    text = definition("win_rate_by_count")
    assert "Denominator: win_rate_by_count_denominator = won_count + lost_count." in text
    assert (
        "excluded_loss_reasons" in text and "Source: marts.agg_closed_deal_metrics.win_rate_by_count." in text
    )
    # The shipped policy's values, written out (kpis.yaml coverage.target_ratio: 3.0, quality.yaml
    # scorecard.metrics.routing_sla.target: 0.95), not read back through the key under test.
    cov = get_metric("pipeline_coverage_ratio")
    assert (cov.target.value, cov.target.comparator, cov.target.source) == (
        3.0,
        ">=",
        "kpis.yaml coverage.target_ratio",
    )
    sla = get_metric("routing_sla_compliance_rate").target
    assert (sla.value, sla.source) == (0.95, "quality.yaml scorecard.metrics.routing_sla.target")
    assert sla.met(0.96) is True and sla.met(0.5) is False and sla.met(None) is None
    with pytest.raises(RegistryError, match="unknown metric 'pipeline'; metrics.yaml defines"):
        definition("pipeline")


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda m: m.pop("owner"), r"^metrics.yaml: metrics\[0\]\.owner: got nothing; expected a value"),
        (
            lambda m: m.update(unit="dollars"),
            r"metrics\[0\]\.unit: got 'dollars'; expected 'currency', 'count'",
        ),
        (
            lambda m: m.update(model="agg_nope"),
            r"metrics\[0\]\.model: got 'agg_nope' \(metric open_pipeline_amount\); expected a KPI model",
        ),
        (
            lambda m: m.update(column="a; drop table x"),
            r"metrics\[0\]\.column: got 'a; drop table x'; expected a plain name in snake_case",
        ),
        (
            lambda m: m.update(target={"from": "kpis.coverage.nope", "comparator": ">="}),
            r"metrics\[0\]\.target\.from: got 'kpis.coverage.nope' \(no such key\)",
        ),
        (lambda m: m.update(target={"value": 3}), r"metrics\[0\]\.target\.comparator: got nothing; expected"),
    ],
)
def test_bad_entries_are_rejected_with_the_metric_named(change, message):
    raw = _raw()
    change(raw["metrics"][0])
    with pytest.raises(RegistryError, match=message):
        parse_registry(raw)


def test_duplicate_metric_names_are_rejected():
    raw = _raw()
    raw["metrics"].append(copy.deepcopy(raw["metrics"][0]))
    n = len(raw["metrics"]) - 1
    with pytest.raises(
        RegistryError,
        match=rf"metrics\[{n}\]\.name: got 'open_pipeline_amount'; expected a value not already used",
    ):
        parse_registry(raw)


def test_docs_glossary_is_generated_from_the_registry():
    assert (paths.PROJECT_ROOT / "docs" / "glossary.md").read_text() == glossary.render_markdown(), (
        "docs/glossary.md is stale: run PYTHONPATH=plugins python -m salesops.kpis.glossary"
    )


def test_html_glossary_escapes_and_lists_every_metric(tmp_path):
    metrics = list(load_registry().values())
    evil = copy.copy(metrics[0])
    object.__setattr__(evil, "definition", "<script>alert(1)</script> & more")
    html = glossary.render_html([evil, *metrics[1:]])
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    md, out = glossary.write_glossary(tmp_path / "g.md", tmp_path / "g.html")
    text = out.read_text()
    assert all(f'id="{m.name}"' in text for m in metrics)
    assert md.read_text().count("\n## ") == len(metrics)


def test_targets_follow_the_policy_key_they_name(monkeypatch):
    """A target `from: <policy>.<key path>` is read from that key: change the policy value and the
    registry's target changes with it (and only that metric's)."""
    from salesops.kpis import registry

    real = registry.policy

    def edited(name):
        data = copy.deepcopy(real(name))
        if name == "kpis":
            data["coverage"]["target_ratio"] = 4.5
        if name == "quality":
            data["scorecard"]["metrics"]["routing_sla"]["target"] = 0.8
        return data

    monkeypatch.setattr(registry, "policy", edited)
    metrics = parse_registry(_raw())
    assert metrics["pipeline_coverage_ratio"].target.value == 4.5
    assert metrics["routing_sla_compliance_rate"].target.value == 0.8
    assert (
        metrics["required_field_completeness_rate"].target.value
        == get_metric("required_field_completeness_rate").target.value
    )
