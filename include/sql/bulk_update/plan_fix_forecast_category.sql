{#- Plan: ForecastCategoryName -> the stage's policy default (first entry of forecast_categories in
    stages.yaml) wherever the current value (or its absence) is not allowed for the stage.
    Stages that are not in the policy are left to the quality checks.
    Output grain: one row per (record, field); role 'guard' rows are re-checked, never written. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with {% include 'bulk_update/_forecast_category.sql' %}

targets as (
    {% call bu.opportunity_plan_records([
        'o.stage_name',
        'o.forecast_category',
        'd.category as policy_category',
    ]) %}
    inner join stage_default as d on d.stage_name = o.stage_name
    where not exists (
        select 1
        from stage_allowed as a
        where a.stage_name = o.stage_name and a.category = o.forecast_category
    )
    {%- endcall %}
)

{{ bu.plan_rows(
    'targets',
    [('ForecastCategoryName', 'forecast_category', 'policy_category')],
    [('StageName', 'stage_name')],
    'name',
) }}
