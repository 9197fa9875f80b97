-- depends_on: kpi_movement_comparison, fct_pipeline_snapshot, int_opportunity_field_intervals, dim_stage, dim_fiscal_calendar, kpi_context
-- grain: comparison_label, opportunity_id
-- description: Pipeline movement between two snapshots, one row per opportunity that is in the
-- description: window pipeline at the start or at the end of a comparison. Window pipeline = open
-- description: opportunities whose close date is in the fiscal quarter containing the END date.
-- description: Each row has exactly one movement_category and a signed amount_change, so
-- description: start + sum(amount_change) = end: new (created after the start date), reopened (existed
-- description: but was not open at the start), pulled_in (close date moved in from a later quarter),
-- description: pushed_in (moved in from an earlier quarter), pushed (close date moved to a later
-- description: quarter before the slippage cutoff day), slipped (moved later on or after the cutoff
-- description: day of its quarter, calendar.yaml), moved_out_other (close date moved earlier than the
-- description: window or cleared), won, lost, removed (deleted in the CRM), amount_up / amount_down /
-- description: unchanged (in both: end amount - start amount). stage_change (advanced/regressed/same)
-- description: is informational. Missing amounts count as 0. Won/lost: the stage at the end date
-- description: from stage history; without stage history the CRM's own IsClosed/IsWon of the deal,
-- description: then the stage policy (the rule fct_pipeline_snapshot uses, rules.sql).
{% import 'rules.sql' as rules -%}
with comparison as (
    -- comparisons the history covers only (salesops.kpis.history); packs say "not available" for the rest
    select * from marts.kpi_movement_comparison where is_available
),

-- Each use reads the big tables itself, filtered (a CTE used twice is materialised whole: the
-- 5 M interval rows and every snapshot day, where each use needs a few thousand rows of them).
stage_intervals as (
    select opportunity_id, valid_from_date, valid_to_date, value
    from marts.int_opportunity_field_intervals
    where field = 'StageName'
),

close_date_intervals as (
    select opportunity_id, change_seq, valid_from_date, value
    from marts.int_opportunity_field_intervals
    where field = 'CloseDate'
),

stage as (
    select * from marts.dim_stage
),

calendar as (
    select * from marts.dim_fiscal_calendar
),

ctx as (
    select * from marts.kpi_context
),

opportunity as (
    select id, stage_name, is_closed, is_won from staging.stg_crm__opportunity
),

start_snap as (
    select c.comparison_label, s.*
    from comparison as c
    inner join marts.fct_pipeline_snapshot as s on s.snapshot_date = c.start_date
),

end_snap as (
    select c.comparison_label, s.*
    from comparison as c
    inner join marts.fct_pipeline_snapshot as s on s.snapshot_date = c.end_date
),

pairs as (
    select
        coalesce(s.comparison_label, e.comparison_label) as comparison_label,
        coalesce(s.opportunity_id, e.opportunity_id) as opportunity_id,
        s.opportunity_id is not null as in_start_snapshot,
        e.opportunity_id is not null as in_end_snapshot,
        coalesce(e.owner_id, s.owner_id) as owner_id,
        coalesce(e.created_date, s.created_date) as created_date,
        s.stage_name as start_stage_name,
        s.stage_order as start_stage_order,
        e.stage_name as end_stage_name,
        e.stage_order as end_stage_order,
        s.close_date as start_close_date,
        e.close_date as end_close_date,
        coalesce(s.amount, 0) as start_amount,
        coalesce(e.amount, 0) as end_amount
    from start_snap as s
    full outer join end_snap as e
        on e.comparison_label = s.comparison_label
        and e.opportunity_id = s.opportunity_id
),

windowed as (
    select
        p.*,
        c.start_date,
        c.end_date,
        c.window_label,
        c.window_start,
        c.window_end,
        coalesce(p.in_start_snapshot and p.start_close_date between c.window_start and c.window_end, false) as in_start_window,
        coalesce(p.in_end_snapshot and p.end_close_date between c.window_start and c.window_end, false) as in_end_window
    from pairs as p
    inner join comparison as c on c.comparison_label = p.comparison_label
),

in_scope as (
    select * from windowed where in_start_window or in_end_window
),

-- Stage at the end date of opportunities that left the open pipeline (won, lost or deleted).
stage_at_end as (
    select w.comparison_label, w.opportunity_id, i.value as stage_name
    from in_scope as w
    inner join stage_intervals as i
        on i.opportunity_id = w.opportunity_id
        and i.valid_from_date <= w.end_date
        and i.valid_to_date > w.end_date
    where w.in_start_window and not w.in_end_snapshot
),

-- The last close-date change between the two dates that moved the date past the window.
push_day as (
    select w.comparison_label, w.opportunity_id, max(i.valid_from_date) as moved_on
    from in_scope as w
    inner join close_date_intervals as i
        on i.opportunity_id = w.opportunity_id
        and i.change_seq > 0
        and i.valid_from_date > w.start_date
        and i.valid_from_date <= w.end_date
        and try_cast(i.value as date) > w.window_end
    where w.in_start_window and w.in_end_snapshot and not w.in_end_window
    group by w.comparison_label, w.opportunity_id
),

classified as (
    select
        w.*,
        coalesce(pd.moved_on, w.end_date) as close_date_moved_on,
        case
            when w.in_start_window and w.in_end_window then
                case when w.end_amount > w.start_amount then 'amount_up'
                     when w.end_amount < w.start_amount then 'amount_down'
                     else 'unchanged' end
            when w.in_end_window then
                case when not w.in_start_snapshot and w.created_date > w.start_date then 'new'
                     when not w.in_start_snapshot then 'reopened'
                     when w.start_close_date > w.window_end then 'pulled_in'
                     when w.start_close_date < w.window_start then 'pushed_in'
                     else 'reopened' end
            when w.in_end_snapshot then
                case when w.end_close_date > w.window_end and cal.day_of_fiscal_quarter >= ctx.slippage_cutoff_day then 'slipped'
                     when w.end_close_date > w.window_end then 'pushed'
                     else 'moved_out_other' end
            when o.id is null then 'removed'
            -- the CRM's flags describe the current stage, so they apply only without stage history
            when {{ rules.is_won('case when sae.stage_name is null then o.is_won end', 'se.is_won') }} then 'won'
            when {{ rules.is_closed('case when sae.stage_name is null then o.is_closed end', 'se.is_closed') }} then 'lost'
            else 'removed'
        end as movement_category
    from in_scope as w
    cross join ctx
    left join push_day as pd on pd.comparison_label = w.comparison_label and pd.opportunity_id = w.opportunity_id
    left join calendar as cal on cal.date_day = coalesce(pd.moved_on, w.end_date)
    left join opportunity as o on o.id = w.opportunity_id
    left join stage_at_end as sae on sae.comparison_label = w.comparison_label and sae.opportunity_id = w.opportunity_id
    -- Without stage history the current stage is the stage at the end date.
    left join stage as se on se.stage_name = coalesce(sae.stage_name, o.stage_name)
)

select
    comparison_label,
    start_date,
    end_date,
    window_label,
    window_start,
    window_end,
    opportunity_id,
    owner_id,
    movement_category,
    in_start_window,
    in_end_window,
    case when in_start_window then start_amount else 0 end as start_pipeline_amount,
    case when in_end_window then end_amount else 0 end as end_pipeline_amount,
    case when in_end_window then end_amount else 0 end
        - case when in_start_window then start_amount else 0 end as amount_change,
    start_stage_name,
    end_stage_name,
    case when in_start_window and in_end_window and end_stage_order > start_stage_order then 'advanced'
         when in_start_window and in_end_window and end_stage_order < start_stage_order then 'regressed'
         when in_start_window and in_end_window then 'same'
    end as stage_change,
    start_close_date,
    end_close_date,
    case when movement_category in ('pushed', 'slipped') then close_date_moved_on end as close_date_moved_on
from classified
