-- depends_on: int_opportunity_enriched, int_opportunity_history_summary, kpi_context, dim_fiscal_calendar
-- grain: opportunity_id
-- description: Every open opportunity with its stage aging and the at-risk rules of kpis.yaml
-- description: at_risk, evaluated as of the as-of date: past close date (close date < as-of - grace),
-- description: pushed at least min_pushes times, inactive (no activity date, or older than
-- description: inactive_days), large deal early late (amount >= min_amount, stage order <=
-- description: max_stage_order, closing in the current fiscal quarter with <= days_to_quarter_end
-- description: days left). days_in_current_stage counts from the last StageName change into the
-- description: current stage (field history), else from the created date.
with opportunity as (
    select * from marts.int_opportunity_enriched
),

history as (
    select * from marts.int_opportunity_history_summary
),

ctx as (
    select * from marts.kpi_context
),

flags as (
    select
        o.opportunity_id,
        o.opportunity_name,
        o.owner_id,
        o.owner_name,
        o.manager_id,
        o.region,
        o.segment,
        o.stage_name,
        o.stage_order,
        o.amount,
        o.close_date,
        o.close_fiscal_quarter,
        o.forecast_category,
        o.last_activity_date,
        h.current_stage_entered_date,
        {{ m.datediff_days('h.current_stage_entered_date', 'ctx.as_of_date') }} as days_in_current_stage,
        h.push_count,
        ctx.at_risk_past_close_date
            and o.close_date < {{ m.add_days('ctx.as_of_date', '-ctx.past_due_grace_days') }} as is_past_close_date,
        h.push_count >= ctx.at_risk_min_pushes as is_pushed_repeatedly,
        o.last_activity_date is null
            or o.last_activity_date < {{ m.add_days('ctx.as_of_date', '-ctx.at_risk_inactive_days') }} as is_inactive,
        coalesce(o.amount, 0) >= ctx.at_risk_large_min_amount
            and o.stage_order <= ctx.at_risk_large_max_stage_order
            and o.close_date between ctx.as_of_date and ctx.current_fiscal_quarter_end
            and {{ m.datediff_days('ctx.as_of_date', 'ctx.current_fiscal_quarter_end') }} <= ctx.at_risk_large_days_to_quarter_end
            as is_large_early_late
    from opportunity as o
    inner join history as h on h.opportunity_id = o.opportunity_id
    cross join ctx
    where o.is_open
),

normalised as (
    -- A null (unknown close date, unknown stage) does not fire a rule.
    select
        f.*,
        coalesce(is_past_close_date, false) as past_close_date_flag,
        coalesce(is_pushed_repeatedly, false) as pushed_repeatedly_flag,
        coalesce(is_inactive, false) as inactive_flag,
        coalesce(is_large_early_late, false) as large_early_late_flag
    from flags as f
)

select
    opportunity_id, opportunity_name, owner_id, owner_name, manager_id, region, segment,
    stage_name, stage_order, amount, close_date, close_fiscal_quarter, forecast_category,
    last_activity_date, current_stage_entered_date, days_in_current_stage, push_count,
    past_close_date_flag as is_past_close_date,
    pushed_repeatedly_flag as is_pushed_repeatedly,
    inactive_flag as is_inactive,
    large_early_late_flag as is_large_early_late,
    case when past_close_date_flag then 1 else 0 end
        + case when pushed_repeatedly_flag then 1 else 0 end
        + case when inactive_flag then 1 else 0 end
        + case when large_early_late_flag then 1 else 0 end as at_risk_rule_count,
    past_close_date_flag or pushed_repeatedly_flag or inactive_flag or large_early_late_flag as is_at_risk
from normalised
