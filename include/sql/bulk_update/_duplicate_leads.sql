{#- Inputs shared by plan_mark_duplicate_leads.sql and quality_gaps_mark_duplicate_leads.sql (one
    definition, so the plan and its explanation of unfixed exceptions never disagree): leads, the open
    lead statuses and the configured match kinds (bind parameters), and the non-original members of
    the quality run's duplicate clusters (cluster_id = the surviving record). Include after `with`. -#}
{% import 'bulk_update/_macros.sql' as bu %}
lead as (
    select * from staging.stg_crm__lead
),

{{ bu.open_status_cte(n_statuses) }},

match_kind as (
    select * from {{ bu.values_table('match_kind', ['kind'], n_kinds) }}
),

cluster_member as (
    select record_id, cluster_id as survivor_id, match_kind
    from quality.duplicate_cluster
    where run_id = :quality_run_id and object = :quality_object and not is_original
),
