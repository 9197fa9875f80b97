{#- Why an open opp_forecast_category_mismatch exception is not in a fix_forecast_category plan
    (same stage policy parameters as plan_fix_forecast_category.sql). Null reason: the plan's rules
    would include it. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with {% include 'bulk_update/_forecast_category.sql' %}

open_exception as (
    select * from {{ bu.open_exceptions(n_checks) }} as e
)

select
    e.record_id,
    e.check_id,
    case
        when o.id is null then 'not in staging (deleted since the quality run)'
        when d.stage_name is null then 'stage not in stages.yaml: no policy category to set'
        when exists (
            select 1 from stage_allowed as a
            where a.stage_name = o.stage_name and a.category = o.forecast_category
        ) then 'category already allowed for the stage'
    end as reason
from open_exception as e
left join opportunity as o on o.id = e.record_id
left join stage_default as d on d.stage_name = o.stage_name
