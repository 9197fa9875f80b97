{#- Plan: ForecastCategoryName -> the stage's policy default (first entry of forecast_categories in
    stages.yaml) wherever the current value (or its absence) is not allowed for the stage.
    Stages that are not in the policy are left to the quality checks.
    Output grain: one row per (record, field); role 'guard' rows are re-checked, never written. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with {% include 'bulk_update/_forecast_category.sql' %}

users as (
    select * from staging.stg_crm__user
),

targets as (
    select
        o.id,
        o.name,
        o.owner_id,
        o.stage_name,
        o.forecast_category,
        d.category as policy_category,
        u.region
    from opportunity as o
    inner join stage_default as d on d.stage_name = o.stage_name
    left join users as u on u.id = o.owner_id
    where not exists (
        select 1
        from stage_allowed as a
        where a.stage_name = o.stage_name and a.category = o.forecast_category
    )
)

{{ bu.plan_rows(
    'targets',
    [('ForecastCategoryName', 'forecast_category', 'policy_category')],
    [('StageName', 'stage_name')],
    'name',
) }}
