-- depends_on: dim_stage, kpi_context
-- grain: opportunity_id
-- description: Per opportunity, from field history up to the as-of date: how often the close date
-- description: was pushed (moved later) and pulled in (moved earlier), the day it entered its
-- description: current stage (last StageName change to it; else its created date, but only when
-- description: field history covers that date - without stage-entry history it is null, never the
-- description: created date of a deal history does not cover), and the highest
-- description: stage order it ever reached (Closed Lost does not count as a stage reached).
-- One pass over field history: one join to the opportunity and one group-by give every
-- per-opportunity aggregate (a pass per aggregate re-read and re-grouped the history each time).
with opportunity as (
    select id, stage_name, created_at from staging.stg_crm__opportunity
),

history as (
    select opportunity_id, field, old_value, new_value, cast(created_at as date) as change_date
    from staging.stg_crm__opportunity_field_history
    where field in ('CloseDate', 'StageName')
),

ctx as (
    select * from marts.kpi_context
),

-- stages that count as reached: Closed Lost does not
reachable as (
    select stage_name, stage_order from marts.dim_stage
    where is_won or not is_closed
),

per_opportunity as (
    select
        h.opportunity_id,
        sum(case when h.field = 'CloseDate' and h.change_date <= ctx.as_of_date
                      and try_cast(h.new_value as date) > try_cast(h.old_value as date) then 1 else 0 end) as push_count,
        sum(case when h.field = 'CloseDate' and h.change_date <= ctx.as_of_date
                      and try_cast(h.new_value as date) < try_cast(h.old_value as date) then 1 else 0 end) as pull_in_count,
        -- the last StageName change into the opportunity's current stage
        max(case when h.field = 'StageName' and h.change_date <= ctx.as_of_date
                      and h.new_value = o.stage_name then h.change_date end) as stage_entered_date,
        -- every stage the history shows it in (from or to), whatever the date
        max({{ m.greatest_of('so.stage_order', 'sn.stage_order') }}) as history_stage_order
    from history as h
    inner join opportunity as o on o.id = h.opportunity_id
    cross join ctx
    left join reachable as so on h.field = 'StageName' and so.stage_name = h.old_value
    left join reachable as sn on h.field = 'StageName' and sn.stage_name = h.new_value
    group by h.opportunity_id
)

select
    o.id as opportunity_id,
    coalesce(p.push_count, 0) as push_count,
    coalesce(p.pull_in_count, 0) as pull_in_count,
    coalesce(
        p.stage_entered_date,
        case when cast(o.created_at as date) >= ctx.field_history_start then cast(o.created_at as date) end
    ) as current_stage_entered_date,
    {{ m.greatest_of('p.history_stage_order', 'cur.stage_order') }} as highest_stage_order_reached
from opportunity as o
left join per_opportunity as p on p.opportunity_id = o.id
left join reachable as cur on cur.stage_name = o.stage_name
cross join ctx
