{#- The forecast-category policy (stages.yaml forecast_categories) as a plan reads it, shared by
    plan_fix_forecast_category.sql and quality_gaps_fix_forecast_category.sql (one definition, so the
    plan and its explanation of unfixed exceptions never disagree): each stage's default category
    (the first listed) and every allowed (stage, category), as bind parameters. Include after `with`. -#}
{% import 'bulk_update/_macros.sql' as bu %}
opportunity as (
    select * from staging.stg_crm__opportunity
),

stage_default as (
    select * from {{ bu.values_table('stage_default', ['stage_name', 'category'], n_stages) }}
),

stage_allowed as (
    select * from {{ bu.values_table('stage_allowed', ['stage_name', 'category'], n_allowed) }}
),
