-- depends_on: fct_open_opportunity_risk, dim_stage, int_user_rollup
-- grain: rollup_level, rollup_key, stage_name
-- description: Stage aging of open opportunities by current stage per rollup level: count, amount,
-- description: mean / max days in the current stage as of the as-of date (stages not in stages.yaml
-- description: keep their name, order null). The company rows (rollup_level 'company', key 'all')
-- description: count every open opportunity, whoever owns it; the other kpis.yaml rollup levels put
-- description: an opportunity under its owner (int_user_rollup). days_in_current_stage_total and
-- description: aged_count (opportunities with a known number of days) let a group of rows (a team's
-- description: reps) be averaged exactly: avg = total / aged_count.
with risk as (
    select * from marts.fct_open_opportunity_risk
),

stage as (
    select * from marts.dim_stage
),

rollup as (
    select * from marts.int_user_rollup where rollup_level <> 'company'
),

grouped as (
    select 'company' as rollup_level, 'all' as rollup_key, 'All' as rollup_label, k.*
    from risk as k
    union all
    select r.rollup_level, r.rollup_key, r.rollup_label, k.*
    from risk as k
    inner join rollup as r on r.user_id = coalesce(k.owner_id, '(none)')
)

select
    coalesce(k.stage_name, '(none)') as stage_name,
    max(s.stage_order) as stage_order,
    count(*) as open_count,
    avg(k.days_in_current_stage) as avg_days_in_current_stage,
    max(k.days_in_current_stage) as max_days_in_current_stage,
    k.rollup_level,
    k.rollup_key,
    max(k.rollup_label) as rollup_label,
    sum(coalesce(k.amount, 0)) as open_amount,
    sum(k.days_in_current_stage) as days_in_current_stage_total,
    count(k.days_in_current_stage) as aged_count
from grouped as k
left join stage as s on s.stage_name = k.stage_name
group by k.rollup_level, k.rollup_key, coalesce(k.stage_name, '(none)')
