"""crm_extract_load on the demo CRM: exact counts, idempotent re-runs, exact increments, deletes.

Runs on a private copy of the session's demo (seed 42, small) that the crm_extract_load DAG has
already fully loaded once (see tests/conftest.py).
"""

from __future__ import annotations

import pytest

from salesops.config import object_manifest

pytestmark = pytest.mark.e2e
MANIFEST = object_manifest()
BY_API = {o.api_name: o for o in MANIFEST.values()}


def _source_ids(crm, obj) -> set[str]:
    until = crm.server_time()
    ids: set[str] = set()
    for page in crm.read_changes(obj.api_name, [obj.key], obj.cursor, None, until):
        ids.update(page.column(obj.key).to_pylist())
    return ids


def _staged_ids(wh, obj) -> set[str]:
    return {r["id"] for r in wh.query(f"select {obj.key_column} as id from {obj.staging_table}")}


def _malformed(crm) -> dict[str, set[str]]:
    gt = crm.ground_truth()
    bad = gt[gt["defect"] == "malformed_value"]
    return {api: set(g["record_id"]) for api, g in bad.groupby("object")}


def test_first_load_holds_exactly_the_seeded_records(demo_env):
    crm, wh = demo_env.crm, demo_env.warehouse
    counts = crm.summary()["counts"]
    malformed = _malformed(crm)
    assert sum(len(v) for v in malformed.values()) > 0, "the demo seeds some malformed rows"
    for obj in MANIFEST.values():
        bad = malformed.get(obj.api_name, set())
        staged = _staged_ids(wh, obj)
        assert len(staged) == counts[obj.api_name] - len(bad), obj.name
        assert staged == _source_ids(crm, obj) - bad, obj.name
        quarantined = {
            r["record_id"]
            for r in wh.query(
                "select distinct record_id from ops.quarantine where object = :o", {"o": obj.name}
            )
        }
        assert quarantined == bad, obj.name


def test_staging_grain_is_one_row_per_id(demo_env):
    wh = demo_env.warehouse
    for obj in MANIFEST.values():
        dupes = wh.scalar(f"select count(*) - count(distinct {obj.key_column}) from {obj.staging_table}")
        assert dupes == 0, obj.name


def test_staged_values_equal_the_source_values(demo_env):
    """Every field of every opportunity, typed, equals the source's text value parsed the same way."""
    import pandas as pd

    crm, wh = demo_env.crm, demo_env.warehouse
    obj = MANIFEST["opportunity"]
    src = pd.concat(
        [
            p.to_pandas()
            for p in crm.read_changes(obj.api_name, obj.api_fields, obj.cursor, None, crm.server_time())
        ]
    ).set_index("Id")
    stg = wh.query_df(f"select * from {obj.staging_table}").set_index("id")
    src = src.loc[stg.index]
    assert (src["StageName"] == stg["stage_name"]).all()
    assert (pd.to_numeric(src["Amount"]).round(2).fillna(-1) == stg["amount"].astype(float).fillna(-1)).all()
    assert (
        src["CloseDate"].fillna("") == stg["close_date"].map(lambda d: "" if pd.isna(d) else str(d))
    ).all()
    assert (src["IsClosed"].map({"true": True, "false": False}) == stg["is_closed"]).all()
    assert (
        pd.to_datetime(src["SystemModstamp"], utc=True).dt.tz_localize(None) == stg["system_modstamp"]
    ).all()


def _asset_events(dag_run) -> list[tuple[str, dict]]:
    """(uri, extra) of every Asset event the run emitted."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return [
            (uri, extra)
            for uri, extra in session.query(AssetModel.uri, AssetEvent.extra)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .filter(
                AssetEvent.source_dag_id == "crm_extract_load", AssetEvent.source_run_id == dag_run.run_id
            )
            .all()
        ]


def _assert_every_raw_and_staging_asset_event(dag_run) -> None:
    """publish emitted one event per raw and per staging table, each carrying its load counts."""
    rows = _asset_events(dag_run)
    uris = sorted(uri for uri, _ in rows)
    expected = sorted(
        [f"salesops://warehouse/{o.raw_table.replace('.', '/')}" for o in MANIFEST.values()]
        + [f"salesops://warehouse/{o.staging_table.replace('.', '/')}" for o in MANIFEST.values()]
    )
    assert uris == expected
    loads = [extra["load"] for _, extra in rows if "load" in extra]
    assert len(loads) == len(rows) and sum(r["rows_read"] for r in loads) > 0


def test_second_run_loads_nothing_and_stays_quiet(demo_env):
    """Nothing changed in the CRM: the run succeeds, publish is skipped and no Asset event is emitted
    (issue 16, quiet scheduling: quality, KPIs and packs are not started by an empty load)."""
    from salesops.runner import run_dag

    wh = demo_env.warehouse
    before = wh.scalar("select count(*) from ops.load_audit")
    dr = run_dag("crm_extract_load", {"source": "demo"})
    assert dr.state == "success"
    assert {ti.task_id: ti.state for ti in dr.get_task_instances() if ti.task_id == "publish"} == {
        "publish": "skipped"
    }
    assert _asset_events(dr) == []
    new = wh.query(
        "select object, rows_read, rows_inserted, rows_updated, rows_deleted from ops.load_audit "
        "order by started_at desc limit :n",
        {"n": len(MANIFEST)},
    )
    assert wh.scalar("select count(*) from ops.load_audit") == before + len(MANIFEST)
    assert all(r["rows_read"] == 0 and r["rows_inserted"] == 0 and r["rows_deleted"] == 0 for r in new), new


def test_increment_after_a_simulated_week_is_exactly_what_the_demo_changed(demo_env):
    from salesops.runner import run_dag

    crm, wh = demo_env.crm, demo_env.warehouse
    log0 = crm.change_log()
    seq0 = int(log0["seq"].max()) if len(log0) else -1
    staged_before = {name: _staged_ids(wh, obj) for name, obj in MANIFEST.items()}
    audit0 = wh.scalar("select count(*) from ops.load_audit")

    run_dag("demo_crm_simulate", {"days": 7})
    changes = crm.change_log(since_seq=seq0)
    assert len(changes) > 100, "a simulated week changes a good number of records"
    dr = run_dag("crm_extract_load", {"source": "demo"})
    _assert_every_raw_and_staging_asset_event(dr)  # something changed: downstream DAGs are started

    audit = {
        r["object"]: r
        for r in wh.query(
            "select * from ops.load_audit order by started_at desc limit :n", {"n": len(MANIFEST)}
        )
    }
    assert wh.scalar("select count(*) from ops.load_audit") == audit0 + len(MANIFEST)
    malformed = _malformed(crm)
    for api_name, obj in BY_API.items():
        log = changes[changes["object"] == api_name]
        deleted = set(log.loc[log["change_type"] == "delete", "record_id"])
        touched = set(log.loc[log["change_type"].isin(["insert", "update"]), "record_id"]) - deleted
        a = audit[obj.name]
        assert a["rows_read"] == len(touched), obj.name
        assert a["rows_deleted"] == len(deleted & staged_before[obj.name]), obj.name
        inserted = touched - staged_before[obj.name] - malformed.get(api_name, set())
        assert a["rows_inserted"] == len(inserted), obj.name
        # and the warehouse now mirrors the source
        assert _staged_ids(wh, obj) == _source_ids(crm, obj) - malformed.get(api_name, set()), obj.name
        assert not (_staged_ids(wh, obj) & deleted), obj.name


def test_schema_drift_in_the_source_is_reported_and_nothing_is_blanked(demo_env):
    from salesops.runner import run_dag

    crm, wh = demo_env.crm, demo_env.warehouse
    next_steps_before = {
        r["id"]: r["next_step"] for r in wh.query("select id, next_step from staging.stg_crm__opportunity")
    }
    crm.alter_schema("Opportunity", add=["Region_Override__c"], drop=["NextStep"])
    run_dag("demo_crm_simulate", {"days": 1})
    run_dag("crm_extract_load", {"source": "demo", "objects": ["opportunity"]})
    audit = wh.query(
        "select rows_read, schema_added, schema_missing from ops.load_audit "
        "where object = 'opportunity' order by started_at desc limit 1"
    )[0]
    assert audit["rows_read"] > 0
    assert audit["schema_added"] == "Region_Override__c"
    assert audit["schema_missing"] == "NextStep"
    assert "Region_Override__c" in wh.columns("raw.crm__opportunity")
    after = {
        r["id"]: r["next_step"] for r in wh.query("select id, next_step from staging.stg_crm__opportunity")
    }
    kept = [i for i in next_steps_before if i in after and next_steps_before[i] is not None]
    assert kept and all(after[i] == next_steps_before[i] for i in kept), (
        "a field the source stopped sending is not blanked"
    )
