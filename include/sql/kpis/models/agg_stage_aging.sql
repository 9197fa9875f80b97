-- depends_on: fct_open_opportunity_risk, dim_stage
-- grain: stage_name
-- description: Stage aging of open opportunities by current stage: count, mean / max days in the
-- description: current stage as of the as-of date (stages not in stages.yaml keep their name, order null).
with risk as (
    select * from marts.fct_open_opportunity_risk
),

stage as (
    select * from marts.dim_stage
)

select
    coalesce(k.stage_name, '(none)') as stage_name,
    max(s.stage_order) as stage_order,
    count(*) as open_count,
    avg(k.days_in_current_stage) as avg_days_in_current_stage,
    max(k.days_in_current_stage) as max_days_in_current_stage
from risk as k
left join stage as s on s.stage_name = k.stage_name
group by coalesce(k.stage_name, '(none)')
