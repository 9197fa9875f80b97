-- depends_on: int_opportunity_enriched, int_booking_currency, dim_fiscal_calendar
-- grain: period_grain, period_label
-- description: CRM vs finance bookings per fiscal month, quarter and year. CRM = closed won
-- description: opportunities by close date; finance = stg_finance__booking by booking date.
-- description: Both sides in the corporate currency (bookings via int_booking_currency).
-- description: variance_amount = CRM - finance; variance_pct = variance / finance (null when finance
-- description: is 0). crm_unmatched_count = won opportunities in the period with no finance booking
-- description: for them (any date); finance_unmatched_count = bookings whose opportunity is not a won
-- description: opportunity in the CRM.
{% import 'rules.sql' as rules -%}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

calendar as (
    select * from marts.dim_fiscal_calendar
),

booking as (
    select b.id, b.opportunity_id, b.booking_date, bc.amount_corporate as amount
    from staging.stg_finance__booking as b
    left join marts.int_booking_currency as bc on bc.booking_id = b.id
),

won as (
    select o.opportunity_id, o.amount_or_zero, o.close_date,
           exists (select 1 from booking as b where b.opportunity_id = o.opportunity_id) as has_booking  -- noqa: LT01, LT06
    from opportunity as o
    where o.is_won
),

fin as (
    select b.id, coalesce(b.amount, 0) as amount, b.booking_date,
           exists (select 1 from won as w where w.opportunity_id = b.opportunity_id) as has_opportunity  -- noqa: LT01, LT06
    from booking as b
),

crm_days as (
    select c.fiscal_month_label, c.fiscal_quarter_label, c.fiscal_year_label,
           w.amount_or_zero as amount, case when w.has_booking then 0 else 1 end as unmatched
    from won as w
    inner join calendar as c on c.date_day = w.close_date
),

fin_days as (
    select c.fiscal_month_label, c.fiscal_quarter_label, c.fiscal_year_label,
           f.amount, case when f.has_opportunity then 0 else 1 end as unmatched
    from fin as f
    inner join calendar as c on c.date_day = f.booking_date
),

crm as (
{{- rules.bookings_by_period('crm_days', period_grains, [
    'count(*) as crm_bookings_count',
    'sum(amount) as crm_bookings_amount',
    'sum(unmatched) as crm_unmatched_count',
]) }}
),

finance as (
{{- rules.bookings_by_period('fin_days', period_grains, [
    'count(*) as finance_bookings_count',
    'sum(amount) as finance_bookings_amount',
    'sum(unmatched) as finance_unmatched_count',
]) }}
),

periods as (
    select period_grain, period_label from crm
    union
    select period_grain, period_label from finance
)

select
    p.period_grain,
    p.period_label,
    coalesce(c.crm_bookings_count, 0) as crm_bookings_count,
    coalesce(c.crm_bookings_amount, 0) as crm_bookings_amount,
    coalesce(f.finance_bookings_count, 0) as finance_bookings_count,
    coalesce(f.finance_bookings_amount, 0) as finance_bookings_amount,
    coalesce(c.crm_bookings_amount, 0) - coalesce(f.finance_bookings_amount, 0) as variance_amount,
    {{ rules.reconciliation_variance_pct('coalesce(c.crm_bookings_amount, 0)', 'coalesce(f.finance_bookings_amount, 0)') }}
        as variance_pct,
    coalesce(c.crm_unmatched_count, 0) as crm_unmatched_count,
    coalesce(f.finance_unmatched_count, 0) as finance_unmatched_count
from periods as p
left join crm as c on c.period_grain = p.period_grain and c.period_label = p.period_label
left join finance as f on f.period_grain = p.period_grain and f.period_label = p.period_label
