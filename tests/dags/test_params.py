"""Every DAG triggers from the UI's form with its defaults, and source options reach only the
sources that take them."""

from __future__ import annotations

from pathlib import Path

import jinja2
import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags


def _types(schema: dict) -> set[str]:
    t = schema.get("type")
    return {t} if isinstance(t, str) else set(t or [])


def test_every_default_conf_validates_against_its_param_schema(dags):
    assert len(dags) >= 6
    for dag in dags.values():
        defaults = dag.params.dump()
        # Airflow's own check (what a run does with an empty conf) ...
        assert dag.params.validate() == defaults
        # ... and each default against its JSON schema, as the UI's form does.
        for name in dag.params:
            jsonschema.validate(defaults[name], dag.params.get_param(name).schema)


def test_no_param_is_a_required_form_field_by_accident(dags):
    """Airflow 3's trigger form treats a non-nullable string with an empty default as required
    (the Trigger button stays grey): optional text params must be nullable with a None default."""
    offenders = []
    for dag_id, dag in dags.items():
        for name in dag.params:
            p = dag.params.get_param(name)
            types = _types(p.schema)
            if "enum" in p.schema:
                assert p.value in p.schema["enum"], f"{dag_id}.{name}: default not in its enum"
                continue
            if "string" in types and "null" not in types and not p.value:
                offenders.append(f"{dag_id}.{name}")
            if p.value is None and "null" not in types:
                offenders.append(f"{dag_id}.{name}")
    assert offenders == []


def test_optional_text_params_are_nullable(dags):
    expected = {
        "crm_bulk_update": {"on_behalf_of", "reason", "plan_id", "undo_of_plan_id", "source_conn_id"},
        "report_packs": {"scope", "as_of"},
        "crm_extract_load": {"csv_folder", "csv_column_map", "source_conn_id"},
    }
    for dag_id, names in expected.items():
        params = dags[dag_id].params
        for name in names & set(params):
            assert params[name] is None
            assert _types(params.get_param(name).schema) == {"null", "string"}, f"{dag_id}.{name}"


def test_apply_plan_gives_the_demo_no_connection_id(dags):
    """The form's source_conn_id (empty, or filled for an API source) reaches only API sources."""
    from salesops.sources.registry import get_source, options_for
    from salesops_demo import DemoCrm

    apply = dags["crm_bulk_update"].get_task("apply_plan")
    env = jinja2.Environment()

    def rendered(conf: dict) -> tuple[str, dict]:
        params = {**dags["crm_bulk_update"].params.dump(), **conf}
        kind = env.from_string(apply.source_kind).render(params=params)
        kwargs = {k: env.from_string(v).render(params=params) for k, v in apply.source_kwargs.items()}
        return kind, kwargs

    kind, kwargs = rendered({})
    assert kind == "demo"
    assert kwargs == {"conn_id": "None"}  # how Jinja renders the null default
    assert options_for(kind, **kwargs) == {}
    assert isinstance(get_source(kind, **options_for(kind, **kwargs)), DemoCrm)

    kind, kwargs = rendered({"source_conn_id": "sf_prod"})
    assert options_for(kind, **kwargs) == {}  # still the demo: the id is not its option
    kind, kwargs = rendered({"source": "salesforce", "source_conn_id": "sf_prod"})
    assert options_for(kind, **kwargs) == {"conn_id": "sf_prod"}
    kind, kwargs = rendered({"source": "hubspot"})
    assert options_for(kind, **kwargs) == {}  # the connector's default connection


def test_extract_builds_each_source_with_its_own_options():
    from salesops.ingest.tasks import build_source
    from salesops.sources.csv_export import CsvExportSource
    from salesops.sources.registry import options_for
    from salesops_demo import DemoCrm

    assert isinstance(build_source({"source": "demo", "source_conn_id": "salesforce_default"}), DemoCrm)
    folder = ROOT / "examples" / "csv_export"
    src = build_source({"source": "csv", "csv_folder": str(folder), "source_conn_id": "x"})
    assert isinstance(src, CsvExportSource)
    with pytest.raises(ValueError, match="needs folder"):
        build_source({"source": "csv", "csv_folder": None})
    assert options_for("csv", folder="/x", conn_id="c", column_map="") == {"folder": "/x"}
    with pytest.raises(ValueError, match="unknown source kind 'sap'"):
        options_for("sap", conn_id="c")
