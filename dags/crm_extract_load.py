"""
### crm_extract_load

Moves every object of the manifest (`include/config/objects.yaml`: users, accounts, contacts,
leads, opportunities, line items, field history, tasks, events, quotas, campaigns, campaign
members, lifecycle stage changes, finance bookings) from the configured **source** into the
warehouse, incrementally.

For each object (dynamic task mapping over the manifest):

1. **extract** reads the records changed since the object's watermark up to the source's clock and
   lands them as Parquet under `data/landing/<object>/<batch_id>/` (plus the deletes), and
   registers the batch in `ops.load_audit`.
2. **load**, in one transaction, writes the batch to `raw.<system>__<object>` (as text), quarantines
   rows that don't parse into `ops.quarantine` (record id, field, value, reason), merges the rest
   into `staging.stg_<system>__<object>` (latest version per id; deletes applied), records counts
   and moves the watermark. Loads run one at a time (DuckDB has a single writer).
3. **publish** emits one Asset event per raw and per staging table (with the batch's counts in the
   event's extra); the staging Assets schedule `crm_data_quality`. A load that changed nothing (no
   row inserted, updated, deleted or quarantined in any object) **skips** publish: no Asset event,
   so quality, KPIs and packs stay quiet until the CRM changes.
4. **check_all_loaded** fails the run naming every object whose extract or load failed. Load and
   publish run whatever happened upstream (trigger rule all_done), so one object's bad file or API
   error never blocks the other objects' loads and Asset events. A CSV export error (encoding,
   oversized cell, empty file, late row) fails its extract at once, without retries.

**Params**: `source` (demo | csv | salesforce | hubspot | marketo), `objects` (empty = all),
`full_refresh` (ignore watermarks), `csv_folder` / `csv_column_map` (for `csv`),
`source_conn_id` (for API sources; default per connector).

**Connections**: `salesops_warehouse` (optional; default is the DuckDB file `data/warehouse.duckdb`),
and the source's own connection for API sources. Re-running any task is safe.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from salesops.assets import all_raw_assets, all_staging_assets
from salesops.sources.registry import KINDS as SOURCE_KINDS

_WAREHOUSE_CONN_ID = os.getenv("SALESOPS_WAREHOUSE_CONN_ID", "salesops_warehouse")
_DEFAULT_SOURCE = os.getenv("SALESOPS_SOURCE", "demo")
_STAGING_ASSETS = all_staging_assets()
_RAW_ASSETS = all_raw_assets()
# Cron or preset; "none" = only triggered runs (an external scheduler, or a test driving the loads).
_SCHEDULE = os.getenv("SALESOPS_EXTRACT_SCHEDULE", "@hourly")


@dag(
    schedule=None if _SCHEDULE.strip().lower() in ("", "none") else _SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["salesops", "extract-load"],
    default_args={"owner": "revops-data", "retries": 2, "retry_delay": timedelta(minutes=2)},
    params={
        "source": Param(
            _DEFAULT_SOURCE,
            enum=list(SOURCE_KINDS),
            description="Where to extract from.",
        ),
        "objects": Param([], type="array", description="Manifest object names; empty means all."),
        "full_refresh": Param(False, type="boolean", description="Ignore watermarks and read everything."),
        "csv_folder": Param(None, type=["null", "string"], description="CSV export folder (source=csv)."),
        "csv_column_map": Param(None, type=["null", "string"], description="YAML column map (source=csv)."),
        "source_conn_id": Param(None, type=["null", "string"], description="Connection id for API sources."),
    },
)
def crm_extract_load():
    @task
    def plan_objects(params: dict | None = None) -> list[str]:
        from salesops.ingest.tasks import resolve_objects

        return resolve_objects((params or {}).get("objects"))

    # map_index_template: the grid shows each mapped task by its object, not 0..13.
    # multiple_outputs=False on the tasks returning dicts: Airflow infers True from a `dict` return
    # annotation and then stores every key as an XCom of its own besides the whole value (about 500
    # extra XCom writes per run, each an API call; nothing reads them: downstream takes the whole
    # value).
    @task(max_active_tis_per_dagrun=2, map_index_template="{{ object_label }}", multiple_outputs=False)
    def extract(object_name: str, params: dict | None = None) -> dict:
        from salesops.ingest.tasks import extract as run_extract

        ctx = get_current_context()
        ctx["object_label"] = object_name  # type: ignore[typeddict-unknown-key]
        return run_extract(object_name, params or {}, _WAREHOUSE_CONN_ID, ctx["run_id"])

    # all_done from here on: one object's failed extract or load never blocks the others' loads and
    # Asset events; check_all_loaded then fails the run naming it.
    @task(
        max_active_tis_per_dagrun=1,
        map_index_template="{{ object_label }}",
        trigger_rule="all_done",
        multiple_outputs=False,
    )
    def load(batch: dict) -> dict:
        from salesops.ingest.tasks import load as run_load

        get_current_context()["object_label"] = batch.get("object", "")  # type: ignore[typeddict-unknown-key]
        return run_load(batch, _WAREHOUSE_CONN_ID)

    @task(outlets=_RAW_ASSETS + _STAGING_ASSETS, trigger_rule="all_done", multiple_outputs=False)
    def publish(results: list[dict], outlet_events=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from salesops.ingest.tasks import changed_anything, summarise

        # Index by length: iterating the lazy sequence probes one past the end (a logged 404).
        loaded = [results[i] for i in range(len(results))]
        summary = summarise(loaded)
        if not changed_anything(summary):
            # Quiet hours: a skipped task emits no Asset events, so downstream DAGs do not run.
            raise AirflowSkipException(f"nothing changed in {summary['objects']} objects: no Asset events")
        by_object = {r["object"]: r for r in loaded}
        for asset in _RAW_ASSETS + _STAGING_ASSETS:
            r = by_object.get(asset.name.split("__", 1)[-1])
            outlet_events[asset].extra = {"summary": summary, **({"load": r} if r else {})}
        return summary

    @task(trigger_rule="all_done", retries=0, multiple_outputs=False)
    def check_all_loaded(planned: list[str], results: list[dict]) -> dict:
        from salesops.ingest.tasks import check_all_loaded as check

        return check(list(planned), [results[i] for i in range(len(results))])

    objects = plan_objects()
    loaded = load.expand(batch=extract.expand(object_name=objects))
    publish(loaded) >> check_all_loaded(objects, loaded)


crm_extract_load()
