-- Pipeline created: amount of the opportunities created each day (marts.int_opportunity_enriched).
-- Series contract (every file of monitoring/series): scope_type, scope_value, day, numerator,
-- denominator (null = an additive count or amount; else the period value is sum(num) / sum(den)).
with opportunity as (
    select * from marts.int_opportunity_enriched
)

select
    'all' as scope_type,
    'all' as scope_value,
    created_date as day,
    sum(amount_or_zero) as numerator,
    cast(null as double) as denominator
from opportunity
where created_date >= :from_date and created_date < :as_of_date
group by created_date
