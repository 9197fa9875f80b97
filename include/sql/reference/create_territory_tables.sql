{#- The territory tables (territories.yaml), written by salesops/reference.py: with the calendar by
    the quality run and the KPI build (create_tables.sql includes this file), and on their own by a
    bulk-update plan that routes leads when they do not hold the policy yet. -#}
create schema if not exists marts;

create or replace table marts.dim_segment_band (
    segment varchar not null,
    min_employees bigint not null,
    max_employees_exclusive bigint            -- null = no upper bound
);

-- territories.yaml regions: one row per country (the first region listing it).
create or replace table marts.dim_country_region (
    country varchar not null,
    region varchar not null
);

-- territories.yaml routing_rules in file order (first match wins).
create or replace table marts.dim_routing_rule (
    rule_order integer not null,
    segment varchar not null,
    region varchar not null,
    team varchar not null
);

create or replace table marts.dim_routing_sla (
    segment varchar not null,
    assignment_hours double not null
);
