-- Routing SLA breaches: share of leads created each day whose routing SLA is decided (met,
-- breached, unassigned_breached; pending and no_sla left out) that breached it.
with speed as (
    select * from marts.fct_lead_speed_to_lead
    where sla_status in ('met', 'breached', 'unassigned_breached')
      and cast(created_at as date) >= :from_date and cast(created_at as date) < :as_of_date
)

select
    'all' as scope_type,
    'all' as scope_value,
    cast(created_at as date) as day,
    cast(sum(case when sla_status = 'met' then 0 else 1 end) as double) as numerator,
    cast(count(*) as double) as denominator
from speed
group by cast(created_at as date)
