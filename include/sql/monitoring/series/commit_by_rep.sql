{% import 'macros.sql' as m with context %}
-- Forecast Commit per rep, week over week: the amount of each rep's opportunities in forecast
-- category Commit at the end of each week ending the day before the as-of date (field history
-- intervals of ForecastCategoryName; an opportunity without such history had its current category
-- since creation). Amounts are the current amounts (Amount history is not replayed here).
with opportunity as (
    select * from marts.int_opportunity_enriched
),

intervals as (
    select * from marts.int_opportunity_field_intervals
    where field = 'ForecastCategoryName'
),

week_end as (
    select date_day as day
    from marts.dim_fiscal_calendar
    where date_day >= :from_date and date_day < :as_of_date
      and mod({{ m.datediff_days('date_day', ':as_of_date') }} - 1, 7) = 0
),

with_history as (
    select distinct opportunity_id from intervals
),

category_at as (
    select w.day, o.opportunity_id, o.owner_id, o.amount_or_zero,
        coalesce(i.value, case when h.opportunity_id is null then o.forecast_category end) as forecast_category
    from week_end as w
    inner join opportunity as o on o.created_date <= w.day
    left join intervals as i
        on i.opportunity_id = o.opportunity_id and i.valid_from_date <= w.day and i.valid_to_date > w.day
    left join with_history as h on h.opportunity_id = o.opportunity_id
)

select
    'owner' as scope_type,
    owner_id as scope_value,
    day,
    sum(case when forecast_category = 'Commit' then amount_or_zero else 0 end) as numerator,
    cast(null as double) as denominator
from category_at
group by owner_id, day
