{#- The movement waterfall of one comparison (:comparison) for the scope, from the per-opportunity
    rows of marts.fct_pipeline_movement (owner = the owner at the end, else at the start), in the
    step order of marts.agg_pipeline_waterfall. starting + sum(flows) = ending by construction. -#}
{% import 'packs/_scope.sql' as s %}
with movement as (
    select m.*
    from marts.fct_pipeline_movement as m
    left join staging.stg_crm__user as u on u.id = m.owner_id
    where m.comparison_label = :comparison
      and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
),

comparison as (
    select * from marts.kpi_movement_comparison where comparison_label = :comparison
),

steps as (
    select * from (
        values
            (1, 'starting_pipeline', false),
            (2, 'new', true),
            (3, 'reopened', true),
            (4, 'pulled_in', true),
            (5, 'pushed_in', true),
            (6, 'amount_up', true),
            (7, 'amount_down', true),
            (8, 'pushed', true),
            (9, 'slipped', true),
            (10, 'moved_out_other', true),
            (11, 'won', true),
            (12, 'lost', true),
            (13, 'removed', true),
            (14, 'ending_pipeline', false),
            (15, 'stage_advanced', false),
            (16, 'stage_regressed', false)
    ) as t (step_order, step, is_flow)
),

flows as (
    select movement_category as step, count(*) as n, sum(amount_change) as amount
    from movement
    group by movement_category
    union all
    select 'stage_' || stage_change, count(*), sum(end_pipeline_amount)
    from movement
    where stage_change in ('advanced', 'regressed')
    group by stage_change
),

totals as (
    select
        sum(case when in_start_window then 1 else 0 end) as start_n,
        coalesce(sum(start_pipeline_amount), 0) as start_amount,
        sum(case when in_end_window then 1 else 0 end) as end_n,
        coalesce(sum(end_pipeline_amount), 0) as end_amount
    from movement
)

select
    c.comparison_label,
    c.start_date,
    c.end_date,
    c.window_label,
    st.step_order,
    st.step,
    st.is_flow,
    case st.step when 'starting_pipeline' then coalesce(t.start_n, 0) when 'ending_pipeline' then coalesce(t.end_n, 0)
         else coalesce(f.n, 0) end as opportunity_count,
    case st.step when 'starting_pipeline' then t.start_amount when 'ending_pipeline' then t.end_amount
         else coalesce(f.amount, 0) end as amount
from comparison as c
cross join steps as st
cross join totals as t
left join flows as f on f.step = st.step
order by st.step_order
