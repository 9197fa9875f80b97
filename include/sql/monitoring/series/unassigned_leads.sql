-- Unassigned leads: leads created each day that were still unassigned when their routing SLA ran
-- out (marts.fct_lead_speed_to_lead sla_status = unassigned_breached), overall and by segment.
with speed as (
    select * from marts.fct_lead_speed_to_lead
    where sla_status = 'unassigned_breached'
      and cast(created_at as date) >= :from_date and cast(created_at as date) < :as_of_date
)

select
    'all' as scope_type,
    'all' as scope_value,
    cast(created_at as date) as day,
    cast(count(*) as double) as numerator,
    cast(null as double) as denominator
from speed
group by cast(created_at as date)

union all

select
    'segment',
    segment,
    cast(created_at as date),
    cast(count(*) as double),
    cast(null as double)
from speed
group by segment, cast(created_at as date)
