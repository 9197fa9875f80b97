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

-- An opportunity without ForecastCategoryName history had its current category every week since
-- it was created: it adds the same amount to each week from its first week end on. Those (nearly
-- all of them) are summed per owner and first week before meeting the weeks - not every
-- opportunity paired with every week (16 weeks x 1 M opportunities was 16 M rows to group).
first_week as (
    select c.created_date, min(w.day) as day
    from (select distinct created_date from opportunity) as c
    inner join week_end as w on w.day >= c.created_date
    group by c.created_date
),

plain_by_first_week as (
    select
        o.owner_id,
        f.day as first_day,
        sum(case when o.forecast_category = 'Commit' then o.amount_or_zero else 0 end) as commit_amount
    from opportunity as o
    inner join first_week as f on f.created_date = o.created_date
    left join with_history as h on h.opportunity_id = o.opportunity_id
    where h.opportunity_id is null
    group by o.owner_id, f.day
),

plain as (
    select p.owner_id, w.day, p.commit_amount
    from plain_by_first_week as p
    inner join week_end as w on w.day >= p.first_day
),

-- opportunities with category history (a few thousand): the category of the interval covering
-- each week end since creation (an opportunity's intervals cover every day, 1900-01-01 to 9999-12-31)
with_history_at as (
    select w.day, o.owner_id,
        case when i.value = 'Commit' then o.amount_or_zero else 0 end as commit_amount
    from intervals as i
    inner join week_end as w on i.valid_from_date <= w.day and i.valid_to_date > w.day
    inner join opportunity as o on o.opportunity_id = i.opportunity_id and o.created_date <= w.day
),

category_at as (
    select owner_id, day, commit_amount from plain
    union all
    select owner_id, day, commit_amount from with_history_at
)

select
    'owner' as scope_type,
    owner_id as scope_value,
    day,
    sum(commit_amount) as numerator,
    cast(null as double) as denominator
from category_at
group by owner_id, day
