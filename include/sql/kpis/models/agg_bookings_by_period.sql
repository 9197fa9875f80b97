-- depends_on: int_opportunity_enriched, dim_fiscal_calendar, kpi_policy_list
-- grain: period_grain, period_label, opportunity_type
-- description: CRM bookings (closed won opportunities, by close date) per fiscal month, quarter and
-- description: year and opportunity type (New Business / Expansion / Renewal; '(none)' if empty).
-- description: Amount is the deal's annual contract value: acv_amount = sum(amount),
-- description: avg_acv = mean amount of won deals with an amount; arr_added_amount = amount of the
-- description: types in kpis.yaml bookings.arr_added_types (new + expansion ARR), renewal ARR is not new.
{% import 'rules.sql' as rules -%}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

calendar as (
    select * from marts.dim_fiscal_calendar
),

arr_type as (
    select value as opportunity_type from marts.kpi_policy_list where list_name = 'arr_added_type'
),

won as (
    select
        o.opportunity_id,
        coalesce(o.opportunity_type, '(none)') as opportunity_type,
        o.amount,
        o.amount_or_zero,
        o.opportunity_type in (select opportunity_type from arr_type) as is_arr_added,
        c.fiscal_month_label,
        c.fiscal_quarter_label,
        c.fiscal_year_label
    from opportunity as o
    inner join calendar as c on c.date_day = o.close_date
    where o.is_won
),

by_period as (
{{- rules.bookings_by_period('won', period_grains, [
    'count(*) as bookings_count',
    'sum(amount_or_zero) as bookings_amount',
    'sum(amount_or_zero) as acv_amount',
    'avg(amount) as avg_acv',
    'sum(case when is_arr_added then amount_or_zero else 0 end) as arr_added_amount',
], ['opportunity_type']) }}
)

select * from by_period
