{#- CRM closed-won amount (by CloseDate) vs finance bookings (by BookingDate) per fiscal quarter of
    marts.dim_fiscal_calendar (the one fiscal calendar, salesops/reference.py, written by the
    quality run before its checks; the KPI mart agg_bookings_reconciliation joins the same table);
    closed-won as everywhere (rules.sql is_won, via quality/_opportunity_base.sql). -#}
{% import 'rules.sql' as rules -%}
with {% include 'quality/_opportunity_base.sql' %},
calendar as (
    select date_day, fiscal_quarter_label from marts.dim_fiscal_calendar
),

crm as (
    select c.fiscal_quarter_label as period, sum(o.amount) as crm_amount, count(*) as crm_deals
    from opp as o
    inner join calendar as c on c.date_day = o.close_date
    where o.is_won and o.amount is not null
    group by c.fiscal_quarter_label
),

fin as (
    select c.fiscal_quarter_label as period, sum(b.amount) as booked_amount, count(*) as bookings
    from {{ tables.booking }} as b
    inner join calendar as c on c.date_day = b.booking_date
    where b.amount is not null
    group by c.fiscal_quarter_label
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
order by coalesce(crm.period, fin.period)
