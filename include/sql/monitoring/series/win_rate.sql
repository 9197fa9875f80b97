-- Win rate: won / closed opportunities by close date (marts.int_opportunity_enriched).
with opportunity as (
    select * from marts.int_opportunity_enriched
    where is_closed
)

select
    'all' as scope_type,
    'all' as scope_value,
    close_date as day,
    cast(sum(case when is_won then 1 else 0 end) as double) as numerator,
    cast(count(*) as double) as denominator
from opportunity
where close_date >= :from_date and close_date < :as_of_date
group by close_date
