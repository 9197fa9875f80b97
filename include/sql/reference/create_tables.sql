{#- Reference tables (salesops/reference.py): the fiscal calendar (kpis/fiscal.py) and the
    territory rules (territories.yaml), written from policy by the quality run and by the KPI
    build, and joined by quality checks, KPI models, packs and plans. Rows are inserted with bind
    parameters (kpis/seeds/insert_rows.sql). -#}
create schema if not exists marts;

create or replace table marts.dim_fiscal_calendar (
    date_day date not null,
    fiscal_year integer not null,
    fiscal_quarter integer not null,
    fiscal_month integer not null,
    fiscal_year_label varchar not null,
    fiscal_quarter_label varchar not null,
    fiscal_month_label varchar not null,
    fiscal_quarter_index integer not null,
    fiscal_year_start date not null,
    fiscal_year_end date not null,
    fiscal_quarter_start date not null,
    fiscal_quarter_end date not null,
    fiscal_month_start date not null,
    day_of_fiscal_quarter integer not null
);

{% include 'reference/create_territory_tables.sql' %}
