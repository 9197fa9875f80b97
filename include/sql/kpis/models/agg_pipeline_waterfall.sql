-- depends_on: kpi_movement_comparison, fct_pipeline_movement, fct_pipeline_snapshot, int_user_rollup
-- grain: comparison_label, rollup_level, rollup_key, step
-- description: The movement waterfall of each comparison per rollup level: starting pipeline, one row
-- description: per movement category (signed amount: entries positive, exits negative), ending
-- description: pipeline, and the informational stage_advanced / stage_regressed rows (is_flow false).
-- description: The company row (rollup_level 'company', key 'all') of every comparison is always
-- description: there and counts every opportunity, whoever owns it; the other kpis.yaml rollup levels
-- description: have a row set per group that has window pipeline at the start or end, and put an
-- description: opportunity under its owner (int_user_rollup). Starting and ending pipeline are summed
-- description: straight from the snapshots, the flows from fct_pipeline_movement, so
-- description: starting + sum(flows) = ending is a real check per group (reconciliation_difference = 0).
with comparison as (
    -- comparisons the history covers only (salesops.kpis.history); packs say "not available" for the rest
    select * from marts.kpi_movement_comparison where is_available
),

movement as (
    select * from marts.fct_pipeline_movement
),

snapshot as (
    select * from marts.fct_pipeline_snapshot
),

rollup as (
    select * from marts.int_user_rollup where rollup_level <> 'company'
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
    ) as t (step_order, step, is_flow)  -- noqa: AL05
),

-- The groups an owner's deals count in: the company (everyone, also owners int_user_rollup does
-- not know), and the owner's group at every other configured rollup level.
owner_group as (
    select o.owner_id, 'company' as rollup_level, 'all' as rollup_key, 'All' as rollup_label
    from (select distinct coalesce(owner_id, '(none)') as owner_id from snapshot
          union
          select distinct coalesce(owner_id, '(none)') from movement) as o
    union all
    select user_id, rollup_level, rollup_key, rollup_label from rollup
),

window_snapshot as (
    select c.comparison_label, s.snapshot_date, coalesce(s.amount, 0) as amount,
           coalesce(s.owner_id, '(none)') as owner_id,
           s.snapshot_date = c.start_date as at_start, s.snapshot_date = c.end_date as at_end
    from comparison as c
    inner join snapshot as s
        on s.snapshot_date in (c.start_date, c.end_date) and s.close_date between c.window_start and c.window_end
),

totals as (
    select
        w.comparison_label, g.rollup_level, g.rollup_key,
        sum(case when w.at_start then 1 else 0 end) as start_n,
        sum(case when w.at_start then w.amount else 0 end) as start_amount,
        sum(case when w.at_end then 1 else 0 end) as end_n,
        sum(case when w.at_end then w.amount else 0 end) as end_amount
    from window_snapshot as w
    inner join owner_group as g on g.owner_id = w.owner_id
    group by w.comparison_label, g.rollup_level, g.rollup_key
),

grouped_movement as (
    select m.*, g.rollup_level, g.rollup_key
    from movement as m
    inner join owner_group as g on g.owner_id = coalesce(m.owner_id, '(none)')
),

flows as (
    select comparison_label, rollup_level, rollup_key, movement_category as step, count(*) as n,
           sum(amount_change) as amount
    from grouped_movement
    group by comparison_label, rollup_level, rollup_key, movement_category
    union all
    select comparison_label, rollup_level, rollup_key, 'stage_' || stage_change as step, count(*) as n,
           sum(end_pipeline_amount) as amount
    from grouped_movement
    where stage_change in ('advanced', 'regressed')
    group by comparison_label, rollup_level, rollup_key, stage_change
),

flow_sum as (
    select comparison_label, rollup_level, rollup_key, sum(amount) as amount
    from flows
    where step not in ('unchanged', 'stage_advanced', 'stage_regressed')
    group by comparison_label, rollup_level, rollup_key
),

-- Every comparison has its company row, even with no pipeline at all; other groups only when they
-- have deals in the comparison.
groups_ as (
    select c.comparison_label, 'company' as rollup_level, 'all' as rollup_key
    from comparison as c
    union
    select comparison_label, rollup_level, rollup_key from totals
    union
    select comparison_label, rollup_level, rollup_key from flows
),

labels as (
    select 'company' as rollup_level, 'all' as rollup_key, 'All' as rollup_label
    union all
    select rollup_level, rollup_key, max(rollup_label) from rollup group by rollup_level, rollup_key
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
        case st.step when 'starting_pipeline' then coalesce(t.start_n, 0) when 'ending_pipeline' then coalesce(t.end_n, 0)
             else coalesce(f.n, 0) end as opportunity_count,
        case st.step when 'starting_pipeline' then coalesce(t.start_amount, 0)
             when 'ending_pipeline' then coalesce(t.end_amount, 0)
             else coalesce(f.amount, 0) end as amount,
        coalesce(t.start_amount, 0) + coalesce(fs.amount, 0) - coalesce(t.end_amount, 0) as reconciliation_difference,
        gr.rollup_level,
        gr.rollup_key,
        l.rollup_label
    from groups_ as gr
    inner join comparison as c on c.comparison_label = gr.comparison_label
    cross join steps as st
    left join labels as l on l.rollup_level = gr.rollup_level and l.rollup_key = gr.rollup_key
    left join totals as t
        on t.comparison_label = gr.comparison_label and t.rollup_level = gr.rollup_level and t.rollup_key = gr.rollup_key
    left join flows as f
        on f.comparison_label = gr.comparison_label and f.rollup_level = gr.rollup_level
        and f.rollup_key = gr.rollup_key and f.step = st.step
    left join flow_sum as fs
        on fs.comparison_label = gr.comparison_label and fs.rollup_level = gr.rollup_level and fs.rollup_key = gr.rollup_key
)

select * from rows_
