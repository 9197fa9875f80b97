{#- Territory routing inputs shared by plan_reassign_leads.sql and quality_gaps_reassign_leads.sql
    (one definition, so the plan and its explanation of unfixed exceptions never disagree): users,
    the policy tables from territories.yaml (as bind parameters) and each lead's segment.
    Expects a preceding CTE named `lead`. -#}
{% import 'bulk_update/_macros.sql' as bu %}
users as (
    select * from staging.stg_crm__user
),

country_region as (
    select * from {{ bu.values_table('country_region', ['country', 'region'], n_countries) }}
),

segment_floor as (
    select * from {{ bu.values_table('segment_floor', ['segment', 'min_employees'], n_segments) }}
),

routing_rule as (
    select * from {{ bu.values_table('routing_rule', ['rule_order', 'segment', 'region', 'team'], n_rules) }}
),

open_status as (
    select * from {{ bu.values_table('open_status', ['status'], n_statuses) }}
),

lead_segment as (
    select
        l.id,
        s.segment,
        row_number() over (partition by l.id order by s.min_employees desc) as rn
    from lead as l
    inner join segment_floor as s on s.min_employees <= l.number_of_employees
),
