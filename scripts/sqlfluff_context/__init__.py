"""Jinja context for ``sqlfluff lint include/sql`` (the ``library_path`` of .sqlfluff).

sqlfluff renders each file of include/sql on its own, while the code renders them through
``salesops.sql.render(relpath, **context)`` with a context built at run time (an object spec from
include/config/objects.yaml, policy lists, counts of bind-parameter rows). Every public name below
is one of those context variables, with a small value of the same *shape* the code passes, so
every template renders to SQL that parses; the macros are the project's own (include/sql is the
loader path, so ``{% import 'macros.sql' %}`` and friends load the real files).

A new template variable shows up as "Undefined jinja template variable" in ``make check``: add a
representative value here. Values are illustrative, never read by the pipeline.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace as _NS

import jinja2 as _jinja2

_SQL_DIR = Path(__file__).resolve().parents[2] / "include" / "sql"

# salesops.sql.render: every file gets the warehouse dialect.
dialect = "duckdb"


def _field(api_name: str, column: str, type_: str, required: bool = False) -> _NS:
    return _NS(api_name=api_name, column=column, type=type_, required=required)


# ingest/load.py and bulk_update: one ObjectSpec of include/config/objects.yaml.
obj = _NS(
    name="opportunity",
    api_name="Opportunity",
    raw_table="raw.crm__opportunity",
    staging_table="staging.stg_crm__opportunity",
    key="Id",
    key_column="id",
    cursor="SystemModstamp",
    cursor_column="system_modstamp",
    fields=[
        _field("Id", "id", "id", required=True),
        _field("Name", "name", "string"),
        _field("Amount", "amount", "decimal"),
        _field("Probability", "probability", "double"),
        _field("IsWon", "is_won", "bool"),
        _field("CloseDate", "close_date", "date"),
        _field("SystemModstamp", "system_modstamp", "timestamp", required=True),
    ],
)
# bulk_update/select_parent_ids.sql: the staging column of the lookup a write locks.
parent_column = "account_id"
# load/*.sql: the fields the batch actually carries (schema drift leaves some out).
present = ["Id", "Name", "Amount", "IsWon", "CloseDate", "SystemModstamp"]
columns = ["Id", "Name", "Amount"]
relation = "read_parquet('batch.parquet')"
# load/add_staging_columns.sql: manifest fields an older staging table lacks.
missing = [_field("Pricebook2Id", "pricebook_id", "id")]
# load/record_object_ddl.sql: the digest of an object's applied table definitions (hex).
digest = "0123456789abcdef"
# load/refresh_formulas.sql: the manifest fields that are formulas in the org.
formula_fields = [_field("Probability", "probability", "double")]
batch_id_literal = "20260101T000000-opportunity-demo"
# load/land_batch.sql: the batch id written into the _raw_batch view (DuckDB; checked safe in load.py).
batch_id = "opportunity__20260101T000000__0123456789"
origin_landed = True
# load/land_batch.sql and friends (prepare phase): every raw column, the landed deletes, and the
# formula-value columns as landed (Snowflake: the landing tables COPY filled).
raw_columns = ["Id", "Name", "Amount", "Probability", "IsWon", "CloseDate", "SystemModstamp"]
deleted_relation = "read_parquet('deleted.parquet')"
# load/land_batch.sql: the source's quarantine notes (row, field, reason) as landed.
notes_relation = "read_parquet('notes.parquet')"
# kpis/seeds/existing_tables.sql: logical schema -> the physical name (Snowflake schema_prefix).
schema_names = {"raw": "raw", "staging": "staging", "quality": "quality", "marts": "marts", "ops": "ops"}
names = ["Id", "Probability"]
staging_empty = False
has_duplicates = True

# quality/_db.render: staging table per manifest object.
tables = {
    name: f"staging.stg_crm__{name}"
    for name in (
        "account",
        "booking",
        "contact",
        "lead",
        "opportunity",
        "opportunity_field_history",
        "opportunity_line_item",
        "user",
        # the product catalogue checks (quality/_product_base.sql, issue 15)
        "product",
        "pricebook",
        "pricebook_entry",
        "currency_type",
        "dated_conversion_rate",
    )
}
# quality/catalogue.py sql context: the product catalogue checks' policy (salesops.quality.products).
products = {
    "amount_tolerance": "0.01",
    "max_discount_pct": "25.0",
    "max_markup_pct": "0.0",
    "corporate_currency": "'USD'",
}
# quality/catalogue.py sql context: SQL literals already quoted by sql_literal().
stages = [
    {"name": "'Prospecting'", "order": 1, "is_closed": "false", "is_won": "false"},
    {"name": "'Closed Won'", "order": 6, "is_closed": "true", "is_won": "true"},
]
max_pushes = 3
lost_zero_allowed = "true"
# quality/catalogue.py blocking_picklists(): Opportunity picklists whose unknown values block
blocking_picklists = [{"field": "'LeadSource'", "column": "lead_source", "values": ["'Web'", "'Event'"]}]
# quality/catalogue.py object_picklists(): Lead/Account/Contact picklists (<object>_unknown_picklist_value)
object_picklists = {
    name: [
        {
            "api": "LeadSource",
            "field": "'LeadSource'",
            "column": "lead_source",
            "values": ["'Web'", "'Event'"],
        }
    ]
    for name in ("lead", "account", "contact")
}
object_picklist_rules = [
    {"object": "'Lead'", "field": "'Status'", "label": "'Lead Status'", "allowed": "'Open, Working'"}
]
# quality/availability.py: field_fill.sql columns
fill_columns = [
    {"alias": "f_0", "column": "amount", "text": False},
    {"alias": "f_1", "column": "type", "text": True},
]
# quality runner: gx_input_key / duplicate_input / gate_samples / upsert_exceptions.
table = "staging.stg_crm__lead"
key_column = "id"
object = "lead"
fields = {"first_name": "first_name", "company": "account_id", "email": "email"}
# quality/duplicates.py (include/sql/quality/duplicates/*): the blocking keys of one pass (columns of
# the matcher's normalised records), one key, its index in the pass, the matched-records switch.
dup_keys = [["email_domain", "last_initials", "first_initial"], ["company_norm", "first_norm"]]
dup_key = ["company_norm", "first_norm"]
dup_key_index = 1
dup_table = "dup_blocks_0"
# candidate_count.sql: inclusion-exclusion over the keys of a pass (each key set with its sign).
dup_subsets = [
    {"sign": 1, "key_numbers": [0]},
    {"sign": 1, "key_numbers": [1]},
    {"sign": -1, "key_numbers": [0, 1]},
]
dup_matched_only = True
limit = 20
checks_run = "'opp_orphan_owner', 'lead_sla_breach'"

# kpis/policy.py KpiPolicy.jinja() and kpis/runner.py.
period_grains = ["month", "quarter"]
forecast_categories = ["pipeline", "best_case", "commit"]
funnel_stages = [
    {"rank": 1, "column": "open"},
    {"rank": 2, "column": "working"},
    {"rank": 3, "column": "qualified"},
]
required_field_columns = [{"api_name": "NextStep", "column": "next_step"}]
rollup_levels = [
    {"name": "company", "key": "'company'", "label": "'Company'"},
    {"name": "rep", "key": "u.id", "label": "u.name"},
]
quality_scorecard = True
model = _NS(name="agg_stage_aging", template="kpis/models/agg_stage_aging.sql")
# KPI models are included by kpis/materialize_*.sql, which import macros.sql as `m`; linted on
# their own they get the same module.
m = (
    _jinja2.Environment(loader=_jinja2.FileSystemLoader(str(_SQL_DIR)))
    .get_template("macros.sql")
    .make_module({"dialect": dialect})
)

# bulk_update/plan_types/*.py sql_context: row counts of the VALUES tables built from bind parameters.
n_checks = 2
n_statuses = 3
n_kinds = 2
n_stages = 2
n_allowed = 4
n_stage_flags = 2
exclude_stale = True
include_misrouted = True
# bulk_update/plan_types/territory_change.py sql_context: the proposed map's VALUES tables.
n_cells = 2
n_owners = 2
n_lead_owners = 1
n_overrides = 1
n_ids = 2

# packs/sections.py
categories = ["commit", "best_case"]
checks = ["opp_orphan_owner", "lead_sla_breach"]
column = "u.region"
days = 7
weeks = 4

# bulk_update/render.py plan_names: the plan object's staging table and where its account name is.
record_table = "staging.stg_crm__opportunity"
account_column = "account_id"
company_column = None
has_users = True

# console/*.sql (salesops.console.data): the viewer's scope.
scope_column = "team"
scope_type = "team"

# monitoring (issue 14): packs/open_anomalies.sql (the pack's series of monitoring.yaml) and
# monitoring/concentration.sql (the anomaly's series).
series = ["unassigned_leads", "lead_volume"]

# onboarding/metric_rows.sql (salesops.onboarding.results): a registry metric's model and `rows`.
metric_model = "agg_stage_aging"
metric_rows = "rollup_level = 'company'"
# quality/messages.py message_context(): include/sql/quality/exception_messages.sql
labels: dict = {}
opp_labels = [("Amount", "'Amount'"), ("Type", "'Type'")]
check_texts = [("opp_stale", "'open opportunity without activity'")]
stage_fc = [{"stage": "'Prospecting'", "allowed": "'Pipeline'"}]
picklist_rules = [{"field": "'Type'", "label": "'Type'", "column": "type", "allowed": "'New Business'"}]
policy_lists = [
    {"field": "'StageName'", "label": "'Stage'", "column": "stage_name", "allowed": "'Prospecting'"}
]
amount_min = "0"
amount_max = "10,000,000"
past_due_rule = "'expected 2026-11-20 or later on an open deal (as of 2026-11-20)'"
stale_days = 30
next_step_stage = "'Qualification'"

# quality/runner.py working tables (include/sql/quality/work/*): one outcome's index, the batch
# table, the population's scope columns, a GX check's violations and row condition, scope types.
outcome = 3
batch = "quality.work_gx_opportunity"
target = "quality.work_gx_opportunity"
source = "quality/gx_input_key.sql"
as_view = False
batch_tables = ["quality.work_gx_opportunity", "quality.work_gx_lead__keys"]
batch_views = ["quality.work_dup_input_lead"]
check = "quality/checks/opp_orphan_owner.sql"
scope_columns = [
    {"name": "owner_id", "expr": "b.owner_id"},
    {"name": "manager_id", "expr": "b.manager_id"},
    {"name": "team", "expr": "b.team"},
    {"name": "region", "expr": "b.region"},
    {"name": "segment", "expr": "cast(null as varchar)"},
    {"name": "created_at", "expr": "cast(null as timestamp)"},
]
violations = [
    {"predicate": "is_open = true and next_step is null", "detail": "''"},
    {"predicate": "is_open = true and not regexp_matches(next_step, '\\S')", "detail": "''"},
]
predicates = ["is_open = true and next_step is null", "amount <= 0"]
population = "(is_open = true)"
# gx_outcome.sql: the batch column holding why a record is not evaluated (sql_check.sql: a switch).
skip = "amount_not_evaluated"
# kpis/unconverted_amounts.sql: which currency model the KPI build checks.
currency_model = "int_booking_currency"
# the currency models (kpis/models/*_currency.sql): the currency table (quality: its own CTE) and,
# in dim_currency.sql, the corporate currency the quality run passes from kpis.yaml.
currency_relation = "marts.dim_currency"
corporate_currency_policy = "'USD'"
scopes = [
    {"type": "owner", "column": "owner_id", "fill": "unassigned"},
    {"type": "team", "column": "team", "fill": "unknown"},
]
members = [3, 4]
created_from = True
# demo/simulate_*.sql (salesops_demo/simulate.py): a demo CRM table, a deletion pool (temp table),
# a cascade parent column and the written columns of the write-back update.
sim_table = '"Opportunity"'
sim_pool = "_sim_task_pool"
sim_parent = '"WhatId"'
sim_columns = [
    {"name": '"StageName"', "type": "VARCHAR", "flag": "w_0"},
    {"name": '"Amount"', "type": "DECIMAL(18,2)", "flag": "w_1"},
]
