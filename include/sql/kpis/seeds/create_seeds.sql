{#- Seed tables: policy from include/config and the run's as-of context, rewritten on every build
    so the marts always record the policy that produced them. Rows are inserted by the runner
    with bind parameters (seeds/insert_rows.sql). -#}
create schema if not exists marts;

-- One row: the as-of date of this build and the policy numbers the models use.
create or replace table marts.kpi_context (
    as_of_date date not null,
    as_of_ts timestamp not null,
    as_of_source varchar not null,           -- load_audit | override
    extracted_at timestamp,                  -- max(until) of loaded batches, if any
    fiscal_year_start_month integer not null,
    current_fiscal_quarter_index integer not null,
    current_fiscal_quarter_label varchar not null,
    current_fiscal_quarter_start date not null,
    current_fiscal_quarter_end date not null,
    next_fiscal_quarter_index integer not null,
    next_fiscal_quarter_label varchar not null,
    next_fiscal_quarter_start date not null,
    next_fiscal_quarter_end date not null,
    slippage_cutoff_day integer not null,
    stale_days integer not null,
    past_due_grace_days integer not null,
    at_risk_past_close_date boolean not null,
    at_risk_min_pushes integer not null,
    at_risk_inactive_days integer not null,
    at_risk_large_min_amount decimal(18, 2) not null,
    at_risk_large_max_stage_order integer not null,
    at_risk_large_days_to_quarter_end integer not null,
    coverage_target_ratio double,
    corporate_currency varchar not null,     -- kpis.yaml currency.corporate (the source's CurrencyType wins)
    history_start date not null,             -- first day whose pipeline state is known (salesops.kpis.history)
    field_history_start date                 -- first OpportunityFieldHistory change; null = none loaded
);

-- Value lists from kpis.yaml (excluded loss reasons, ARR types, quota roles, funnel stages).
create or replace table marts.kpi_policy_list (
    list_name varchar not null,
    position integer not null,
    value varchar not null
);

create or replace table marts.kpi_movement_comparison (
    comparison_label varchar not null,
    start_date date not null,
    end_date date not null,
    window_label varchar not null,           -- fiscal quarter of end_date
    window_start date not null,
    window_end date not null,
    history_start date,                      -- first day the history covers
    is_available boolean not null,           -- false: start_date is before history_start
    unavailable_reason varchar               -- "not available: history starts <date> (...)"
);

create or replace table marts.kpi_snapshot_request (
    snapshot_date date not null,
    snapshot_source varchar not null         -- live (staging as extracted) | history (as-of rebuild)
);

create or replace table marts.dim_stage (
    stage_name varchar not null,
    stage_order integer not null,
    default_probability double not null,
    is_closed boolean not null,
    is_won boolean not null,
    default_forecast_category varchar not null
);

create or replace table marts.dim_stage_required_field (
    stage_name varchar not null,
    field_api_name varchar not null
);

create or replace table marts.dim_forecast_category (
    forecast_category varchar not null,
    rollup_order integer not null,
    column_stem varchar not null
);

-- The reference tables (fiscal calendar, territory rules), also written by the quality run.
{% include 'reference/create_tables.sql' %}
