{#- The opportunities a plan reads, with closed by the one rule every job applies (rules.sql
    is_closed: the CRM's IsClosed flag, else the stage policy of stages.yaml, else false) - so a
    plan, the quality checks, the marts and the packs agree on which deals are open. last_touch_date: the last activity, else the creation
    date - what a stale cutoff is compared with (close_stale_opportunities, move_past_close_dates). The stage policy
    arrives as bind parameters (plan_types/_common.py stage_flags). Include after `with`. -#}
{% import 'bulk_update/_macros.sql' as bu %}
{% import 'rules.sql' as rules %}
stage_flag as (
    select * from {{ bu.values_table('stage_flag', ['stage_name', 'is_closed'], n_stage_flags) }}
),

opportunity as (
    select
        o.*,
        {{ rules.is_closed('o.is_closed', 'sf.is_closed') }} as closed_by_rule,
        coalesce(o.last_activity_date, cast(o.created_at as date)) as last_touch_date
    from staging.stg_crm__opportunity as o
    left join stage_flag as sf on sf.stage_name = o.stage_name
),
