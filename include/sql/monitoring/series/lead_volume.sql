-- Lead volume: leads created each day, overall and by lead source (marts.int_lead_enriched).
with lead as (
    select * from marts.int_lead_enriched
    where cast(created_at as date) >= :from_date and cast(created_at as date) < :as_of_date
)

select
    'all' as scope_type,
    'all' as scope_value,
    cast(created_at as date) as day,
    cast(count(*) as double) as numerator,
    cast(null as double) as denominator
from lead
group by cast(created_at as date)

union all

select
    'lead_source',
    coalesce(lead_source, '(none)'),
    cast(created_at as date),
    cast(count(*) as double),
    cast(null as double)
from lead
group by coalesce(lead_source, '(none)'), cast(created_at as date)
