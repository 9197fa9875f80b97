-- depends_on: dim_stage, kpi_context
-- grain: opportunity_id
-- description: Per opportunity, from field history up to the as-of date: how often the close date
-- description: was pushed (moved later) and pulled in (moved earlier), the day it entered its
-- description: current stage (last StageName change to it; else its created date, but only when
-- description: field history covers that date - without stage-entry history it is null, never the
-- description: created date of a deal history does not cover), and the highest
-- description: stage order it ever reached (Closed Lost does not count as a stage reached).
with opportunity as (
    select * from staging.stg_crm__opportunity
),

history as (
    select * from staging.stg_crm__opportunity_field_history
),

ctx as (
    select * from marts.kpi_context
),

stage as (
    select * from marts.dim_stage
),

close_date_changes as (
    select
        h.opportunity_id,
        sum(case when try_cast(h.new_value as date) > try_cast(h.old_value as date) then 1 else 0 end) as push_count,
        sum(case when try_cast(h.new_value as date) < try_cast(h.old_value as date) then 1 else 0 end) as pull_in_count
    from history as h
    cross join ctx
    where h.field = 'CloseDate'
      and cast(h.created_at as date) <= ctx.as_of_date
    group by h.opportunity_id
),

current_stage_entry as (
    select
        h.opportunity_id,
        max(cast(h.created_at as date)) as stage_entered_date
    from history as h
    inner join opportunity as o on o.id = h.opportunity_id and o.stage_name = h.new_value
    cross join ctx
    where h.field = 'StageName'
      and cast(h.created_at as date) <= ctx.as_of_date
    group by h.opportunity_id
),

stages_seen as (
    select opportunity_id, old_value as stage_name from history where field = 'StageName'
    union all
    select opportunity_id, new_value as stage_name from history where field = 'StageName'
    union all
    select id as opportunity_id, stage_name from opportunity
),

reach as (
    select
        ss.opportunity_id,
        max(s.stage_order) as highest_stage_order_reached
    from stages_seen as ss
    inner join stage as s on s.stage_name = ss.stage_name
    where s.is_won or not s.is_closed
    group by ss.opportunity_id
)

select
    o.id as opportunity_id,
    coalesce(c.push_count, 0) as push_count,
    coalesce(c.pull_in_count, 0) as pull_in_count,
    coalesce(
        e.stage_entered_date,
        case when cast(o.created_at as date) >= ctx.field_history_start then cast(o.created_at as date) end
    ) as current_stage_entered_date,
    r.highest_stage_order_reached
from opportunity as o
left join close_date_changes as c on c.opportunity_id = o.id
left join current_stage_entry as e on e.opportunity_id = o.id
left join reach as r on r.opportunity_id = o.id
cross join ctx
