-- depends_on: kpi_movement_comparison, fct_pipeline_movement, fct_pipeline_snapshot
-- grain: comparison_label, step
-- description: The movement waterfall of each comparison: starting pipeline, one row per movement
-- description: category (signed amount: entries positive, exits negative), ending pipeline, and the
-- description: informational stage_advanced / stage_regressed rows (is_flow false). Starting and
-- description: ending pipeline are summed straight from the snapshots, so
-- description: starting + sum(flows) = ending is a real check (reconciliation_difference = 0).
with comparison as (
    select * from marts.kpi_movement_comparison
),

movement as (
    select * from marts.fct_pipeline_movement
),

snapshot as (
    select * from marts.fct_pipeline_snapshot
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

start_total as (
    select c.comparison_label, count(s.opportunity_id) as n, coalesce(sum(coalesce(s.amount, 0)), 0) as amount
    from comparison as c
    left join snapshot as s
        on s.snapshot_date = c.start_date and s.close_date between c.window_start and c.window_end
    group by c.comparison_label
),

end_total as (
    select c.comparison_label, count(s.opportunity_id) as n, coalesce(sum(coalesce(s.amount, 0)), 0) as amount
    from comparison as c
    left join snapshot as s
        on s.snapshot_date = c.end_date and s.close_date between c.window_start and c.window_end
    group by c.comparison_label
),

flows as (
    select comparison_label, movement_category as step, count(*) as n, sum(amount_change) as amount
    from movement
    group by comparison_label, movement_category
    union all
    select comparison_label, 'stage_' || stage_change as step, count(*) as n, sum(end_pipeline_amount) as amount
    from movement
    where stage_change in ('advanced', 'regressed')
    group by comparison_label, stage_change
),

flow_sum as (
    select comparison_label, sum(amount) as amount
    from flows
    where step not in ('unchanged', 'stage_advanced', 'stage_regressed')
    group by comparison_label
),

rows_ as (
    select
        c.comparison_label,
        c.start_date,
        c.end_date,
        c.window_label,
        st.step_order,
        st.step,
        st.is_flow,
        case st.step when 'starting_pipeline' then s.n when 'ending_pipeline' then e.n else coalesce(f.n, 0) end as opportunity_count,
        case st.step when 'starting_pipeline' then s.amount when 'ending_pipeline' then e.amount
             else coalesce(f.amount, 0) end as amount,
        s.amount + coalesce(fs.amount, 0) - e.amount as reconciliation_difference
    from comparison as c
    cross join steps as st
    left join start_total as s on s.comparison_label = c.comparison_label
    left join end_total as e on e.comparison_label = c.comparison_label
    left join flows as f on f.comparison_label = c.comparison_label and f.step = st.step
    left join flow_sum as fs on fs.comparison_label = c.comparison_label
)

select * from rows_
