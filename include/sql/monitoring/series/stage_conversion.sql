-- Stage-to-stage conversion: of the opportunities leaving an open stage each day
-- (OpportunityFieldHistory StageName changes), the share that moved forward (a later open stage or
-- a won stage) rather than back or to lost.
with history as (
    select * from staging.stg_crm__opportunity_field_history
    where field = 'StageName'
),

stage as (
    select * from marts.dim_stage
),

exits as (
    select
        cast(h.created_at as date) as day,
        case
            when coalesce(n.is_won, false) then 1
            when coalesce(n.is_closed, false) then 0
            when n.stage_order > o.stage_order then 1
            else 0
        end as moved_forward
    from history as h
    inner join stage as o on o.stage_name = h.old_value
    inner join stage as n on n.stage_name = h.new_value
    where not coalesce(o.is_closed, false)
)

select
    'all' as scope_type,
    'all' as scope_value,
    day,
    cast(sum(moved_forward) as double) as numerator,
    cast(count(*) as double) as denominator
from exits
where day >= :from_date and day < :as_of_date
group by day
