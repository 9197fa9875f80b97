"""`make run`: the whole chain on your own CRM export and policy overlay, in process.

    make run SOURCE=csv CSV_FOLDER=/data/exports/2026-11-20 CONFIG_DIR=/data/salesops-config

Runs crm_extract_load, crm_data_quality, kpi_transforms and report_packs (company-wide slice) with
``dag.test()``, then prints the same summary `make demo` prints and the exit status with its
meaning. Exit status (``EXIT_CODES``):

  0  published: the gate passed and every pack was published
  1  the quality gate held: nothing downstream ran (no KPI or pack on data that failed a blocker);
     the blockers are printed
  2  bad arguments or config: an invalid policy file (overlay or include/config), a missing CSV
     folder or column map, an unknown source kind; nothing ran
  3  a pack was held by its own checks (the others were published); each held pack and its
     reasons are printed
  4  a task failed (an error, not a finding): the failed DAG and tasks are printed, the task log
     above them has the traceback

`make` itself exits 2 whenever the command fails; the status line printed at the end, or
``python -m scripts.run`` called directly, gives the code above. Writes only to
``SALESOPS_DATA_DIR`` / ``SALESOPS_OUTPUT_DIR`` (the Makefile defaults them to runs/data and
runs/out) and refuses a data folder that holds the demo CRM.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKS = ["weekly_pipeline_inspection", "forecast_hygiene", "dq_scorecard", "routing_sla", "quarter_end"]

PUBLISHED, GATE_HELD, BAD_CONFIG, PACK_HELD, TASK_ERROR = 0, 1, 2, 3, 4
EXIT_CODES = {
    PUBLISHED: "published",
    GATE_HELD: "quality gate held, nothing downstream was published",
    BAD_CONFIG: "bad arguments or config, nothing ran",
    PACK_HELD: "a pack was held (the others were published)",
    TASK_ERROR: "a task failed",
}


@dataclass
class Outcome:
    """What a run came to; :func:`exit_code` maps it to the exit status."""

    config_errors: list[str] = field(default_factory=list)
    task_error: str | None = None  # the DAG and its failed tasks
    gate_message: str | None = None  # set when the quality gate held
    held_packs: list[str] = field(default_factory=list)  # "<pack> <scope>: <reasons>"


def exit_code(outcome: Outcome) -> int:
    """Bad config first (nothing ran), then a task error, the gate, a held pack; else published."""
    if outcome.config_errors:
        return BAD_CONFIG
    if outcome.task_error is not None:
        return TASK_ERROR
    if outcome.gate_message is not None:
        return GATE_HELD
    if outcome.held_packs:
        return PACK_HELD
    return PUBLISHED


def check_config(source: str, csv_folder: str | None, column_map: str | None) -> list[str]:
    """What stops a run before it starts: arguments, the policy (with the overlay), the column map."""
    from salesops import paths, policy
    from salesops.sources.registry import KINDS

    data = paths.data_dir()
    if (data / "demo_crm.duckdb").exists():
        return [
            f"refusing to run on {data}: it holds the demo CRM. Set SALESOPS_DATA_DIR (make run DATA_DIR=...) "
            "to a folder of your own"
        ]
    if source.casefold() not in KINDS:
        return [f"unknown source {source!r}; expected one of {', '.join(KINDS)}"]
    problems = policy.validate_all()
    if source.casefold() == "csv":
        if not csv_folder:
            return [*problems, "make run SOURCE=csv needs CSV_FOLDER=<export folder>"]
        folder = Path(csv_folder)
        if not folder.is_dir():
            return [*problems, f"CSV export folder not found: {folder}"]
        cmap = Path(column_map) if column_map else folder / "column_map.yaml"
        if not cmap.is_file():
            problems.append(
                f"no column map {cmap}: run `make profile SOURCE=csv CSV_FOLDER={folder}`, check its "
                "column_map.yaml draft and copy it there (or name it with COLUMN_MAP=)"
            )
        else:
            from salesops.sources.csv_export import load_column_map

            try:
                load_column_map(cmap)
            except Exception as exc:  # ColumnMapError, or YAML that does not parse
                problems.append(f"{cmap}: {exc}")
    return problems


def _failed_tasks(dag_run: Any) -> list[str]:
    from salesops.runner import task_instances

    return [f"{ti.task_id}[{ti.map_index}]" for ti in task_instances(dag_run) if str(ti.state) == "failed"]


def run_stages(conf: dict[str, Any], packs: list[str], outcome: Outcome) -> str | None:
    """Run the four DAGs, recording the outcome; the report_packs run id (None if it did not run)."""
    from salesops.runner import run_dag
    from salesops.warehouse import Warehouse

    def step(dag_id: str, dag_conf: dict[str, Any] | None = None) -> Any:
        print(
            f"Running {dag_id}{' (' + conf['source'] + ')' if dag_id == 'crm_extract_load' else ''} ...",
            flush=True,
        )
        dr = run_dag(dag_id, dag_conf, check=False)
        failed = [] if str(dr.state) == "success" else _failed_tasks(dr)
        return dr, failed

    dr, failed = step("crm_extract_load", conf)
    if str(dr.state) != "success":
        outcome.task_error = f"crm_extract_load ended {dr.state}; failed tasks: {failed}"
        return None
    dr, failed = step("crm_data_quality")
    if str(dr.state) != "success":
        wh = Warehouse()
        last = (
            wh.query("select status, gate_message from quality.run order by started_at desc limit 1")
            if wh.table_exists("quality.run")
            else []
        )
        if [t.split("[")[0] for t in failed] == ["gate"] and last and last[0]["status"] == "gate_failed":
            outcome.gate_message = str(last[0]["gate_message"])
        else:
            outcome.task_error = f"crm_data_quality ended {dr.state}; failed tasks: {failed}"
        return None
    for dag_id, dag_conf in (("kpi_transforms", None), ("report_packs", {"packs": packs, "scope": "all"})):
        dr, failed = step(dag_id, dag_conf)
        if str(dr.state) != "success":
            outcome.task_error = f"{dag_id} ended {dr.state}; failed tasks: {failed}"
            return None
    return str(dr.run_id)


def held_packs(wh: Any, packs_run_id: str | None) -> list[str]:
    """The slices report_packs held in this run, with the reasons (ops.pack_hold)."""
    if packs_run_id is None or not wh.table_exists("ops.pack_hold"):
        return []
    return [
        f"{r['pack']} {r['scope_type']}={r['scope_value']}: {r['reasons']}"
        for r in wh.query(
            "select pack, scope_type, scope_value, reasons from ops.pack_hold where run_id = :r "
            "order by pack, scope_type, scope_value",
            {"r": packs_run_id},
        )
    ]


def print_summary(wh: Any, out: Path) -> None:
    """Loads, then what the quality, KPI and pack stages produced (the summary `make demo` prints)."""
    from scripts.demo import _print_downstream

    if wh.table_exists("ops.load_audit"):
        print("\nLoads (ops.load_audit):")
        for r in wh.query(
            "select object, sum(rows_read) as read, sum(rows_inserted) as inserted, sum(rows_updated) as updated, "
            "sum(rows_deleted) as deleted, sum(rows_rejected) as rejected from ops.load_audit "
            "where status = 'loaded' and rows_read > 0 group by object order by object"
        ):
            print(
                f"  {r['object']:<28}read {r['read']:>7}  inserted {r['inserted']:>7}  updated {r['updated']:>7}  "
                f"deleted {r['deleted']:>5}  rejected {r['rejected']:>5}"
            )
    _print_downstream(wh, out)


def print_outcome(outcome: Outcome, code: int) -> None:
    """The reasons behind a non-zero status, then the status line."""
    if outcome.config_errors:
        print("\nBAD ARGUMENTS OR CONFIG - nothing ran:", file=sys.stderr)
        for p in outcome.config_errors:
            print(f"  {p}", file=sys.stderr)
    if outcome.task_error:
        print(f"\nTASK ERROR - {outcome.task_error} (the task log above has the traceback)")
    if outcome.gate_message is not None:
        print(f"\nQUALITY GATE HELD - nothing downstream was published:\n  {outcome.gate_message}")
    if outcome.held_packs:
        print(f"\nPACKS HELD - {len(outcome.held_packs)} slice(s) not published (ops.pack_hold):")
        for h in outcome.held_packs:
            print(f"  {h}")
    print(f"\nExit status {code}: {EXIT_CODES[code]}.", flush=True)


def run_chain(
    source: str,
    csv_folder: str | None = None,
    column_map: str | None = None,
    source_conn_id: str | None = None,
    packs: list[str] | None = None,
) -> int:
    """Run the chain, print the summary and the outcome; the exit status (see ``EXIT_CODES``)."""
    from salesops import paths

    outcome = Outcome()
    try:
        outcome.config_errors = check_config(source, csv_folder, column_map)
    except Exception as exc:  # a policy file that does not even parse, and the like
        outcome.config_errors = [f"{type(exc).__name__}: {exc}"]
    if outcome.config_errors:
        code = exit_code(outcome)
        print_outcome(outcome, code)
        return code
    t0 = time.perf_counter()
    conf: dict[str, Any] = {"source": source}
    if csv_folder:
        conf["csv_folder"] = str(csv_folder)
    if column_map:
        conf["csv_column_map"] = str(column_map)
    if source_conn_id:
        conf["source_conn_id"] = source_conn_id
    overlay = os.environ.get("SALESOPS_CONFIG_DIR")
    print(f"Policy: include/config{' + overlay ' + overlay if overlay else ' (no overlay)'}", flush=True)
    packs_run_id = None
    try:
        packs_run_id = run_stages(conf, packs or PACKS, outcome)
    except Exception as exc:  # anything else that broke a stage is a task error, never "gate held"
        traceback.print_exc()
        outcome.task_error = f"{type(exc).__name__}: {exc}"
    from salesops.warehouse import Warehouse

    wh, out = Warehouse(), paths.output_dir()
    try:
        print_summary(wh, out)
        outcome.held_packs = held_packs(wh, packs_run_id)
    except Exception as exc:  # the summary must not hide the outcome
        print(f"(summary not available: {type(exc).__name__}: {exc})")
    print(f"\nWarehouse: {wh.path}\nOutputs:   {out}")
    print("Results:   PYTHONPATH=plugins .venv/bin/python -m salesops metrics --json (quality --json)")
    print(f"Done in {time.perf_counter() - t0:.0f} s.")
    code = exit_code(outcome)
    print_outcome(outcome, code)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", default="csv", help="csv | salesforce | hubspot | marketo | demo")
    parser.add_argument("--csv-folder")
    parser.add_argument("--column-map")
    parser.add_argument("--conn-id", help="Airflow connection id of an API source")
    parser.add_argument("--packs", help=f"comma-separated packs to build (default: {','.join(PACKS)})")
    args = parser.parse_args(argv)  # bad arguments: argparse exits 2 (BAD_CONFIG)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    packs = [p.strip() for p in args.packs.split(",") if p.strip()] if args.packs else None
    return run_chain(args.source, args.csv_folder, args.column_map, args.conn_id, packs)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
