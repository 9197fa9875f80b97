{#- The movement waterfall of one comparison (:comparison) for the scope, read from
    marts.agg_pipeline_waterfall: the company, region or rep rows directly, a team as the sum of its
    reps' rows (every step is a count and a sum). The company rows give every step even where the
    scope has no deals (then 0). -#}
{% import 'packs/_scope.sql' as s %}
with waterfall as (
    select * from marts.agg_pipeline_waterfall where comparison_label = :comparison
),

users as (
    select * from staging.stg_crm__user
),

scoped as (
    select w.step, sum(w.opportunity_count) as opportunity_count, sum(w.amount) as amount
    from waterfall as w
    left join users as u on u.id = w.rollup_key and w.rollup_level = 'rep'
    where {{ s.rollup_filter('w', 'u') }}
    group by w.step
)

select
    w.comparison_label,
    w.start_date,
    w.end_date,
    w.window_label,
    w.step_order,
    w.step,
    w.is_flow,
    coalesce(x.opportunity_count, 0) as opportunity_count,
    coalesce(x.amount, 0) as amount
from waterfall as w
left join scoped as x on x.step = w.step
where w.rollup_level = 'company'
order by w.step_order
