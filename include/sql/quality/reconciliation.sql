{#- CRM closed-won amount (by CloseDate) vs finance bookings (by BookingDate) per fiscal quarter
    (calendar.yaml fiscal_year_start_month; the fiscal year is named after the year it ends in). -#}
{% import 'rules.sql' as rules -%}
{%- macro fq(d) -%}
'FY' || cast(year({{ d }}) + case when month({{ d }}) >= {{ fiscal_start_month }} and {{ fiscal_start_month }} <> 1 then 1 else 0 end as varchar)
|| '-Q' || cast(cast(floor(mod(month({{ d }}) - {{ fiscal_start_month }} + 12, 12) / 3) as integer) + 1 as varchar)
{%- endmacro -%}
with crm as (
    select {{ fq('close_date') }} as period, sum(amount) as crm_amount, count(*) as crm_deals
    from {{ tables.opportunity }}
    where is_won and close_date is not null and amount is not null
    group by 1
),

fin as (
    select {{ fq('booking_date') }} as period, sum(amount) as booked_amount, count(*) as bookings
    from {{ tables.booking }}
    where booking_date is not null and amount is not null
    group by 1
)

select
    coalesce(crm.period, fin.period) as period,
    coalesce(crm.crm_amount, 0) as crm_amount,
    coalesce(fin.booked_amount, 0) as booked_amount,
    coalesce(crm.crm_deals, 0) as crm_deals,
    coalesce(fin.bookings, 0) as bookings,
    {{ rules.reconciliation_variance_pct('coalesce(crm.crm_amount, 0)', 'coalesce(fin.booked_amount, 0)') }}
        as variance_pct
from crm
full outer join fin on fin.period = crm.period
order by 1
