{#- Why an open opp_forecast_category_mismatch exception is not in a fix_forecast_category plan
    (same stage policy parameters as plan_fix_forecast_category.sql, read from the same
    bulk_update/_forecast_category.sql). The plan sets categories on closed deals too, so there is
    no 'already closed' reason. Null reason: the plan's rules would include it. -#}
{% import 'bulk_update/_opportunity_gaps.sql' as gaps with context %}
{% call gaps.opportunity_gaps(
    'bulk_update/_forecast_category.sql',
    closed_rule=false,
    joins='left join stage_default as d on d.stage_name = o.stage_name',
) %}
        when d.stage_name is null then 'stage not in stages.yaml: no policy category to set'
        when exists (
            select 1 from stage_allowed as a
            where a.stage_name = o.stage_name and a.category = o.forecast_category
        ) then 'category already allowed for the stage'
{%- endcall %}
