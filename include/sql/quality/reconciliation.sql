{#- CRM closed-won amount (by CloseDate) vs finance bookings (by BookingDate) per fiscal quarter of
    marts.dim_fiscal_calendar (the one fiscal calendar, salesops/reference.py, written by the
    quality run before its checks; the KPI mart agg_bookings_reconciliation joins the same table);
    closed-won as everywhere (rules.sql is_won, via quality/_opportunity_base.sql). Both sides in
    the corporate currency (_currency.sql, the KPI models' conversion); the deals and
    bookings of a period whose currency has no rate are counted (crm_unconverted,
    booked_unconverted, with one reason each) and the runner leaves that period not evaluated. -#}
{% import 'rules.sql' as rules -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include '_currency.sql' %},
calendar as (
    select date_day, fiscal_quarter_label from marts.dim_fiscal_calendar
),

crm as (
    select
        c.fiscal_quarter_label as period,
        sum(oc.amount_corporate) as crm_amount,
        count(*) as crm_deals,
        sum(case when oc.is_excluded then 1 else 0 end) as crm_unconverted,
        min(case when oc.is_excluded then 'opportunity ' || o.record_id || ': ' || oc.exclusion_reason end)
            as crm_unconverted_reason
    from opp as o
    inner join opp_currency as oc on oc.opportunity_id = o.record_id
    inner join calendar as c on c.date_day = o.close_date
    where o.is_won and o.amount is not null
    group by c.fiscal_quarter_label
),

fin as (
    select
        c.fiscal_quarter_label as period,
        sum(bc.amount_corporate) as booked_amount,
        count(*) as bookings,
        sum(case when bc.is_excluded then 1 else 0 end) as booked_unconverted,
        min(bu.reason) as booked_unconverted_reason
    from {{ tables.booking }} as b
    inner join booking_currency as bc on bc.booking_id = b.id
    left join booking_unconverted as bu on bu.booking_id = b.id
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
        as variance_pct,
    coalesce(crm.crm_unconverted, 0) as crm_unconverted,
    coalesce(fin.booked_unconverted, 0) as booked_unconverted,
    coalesce(crm.crm_unconverted_reason, fin.booked_unconverted_reason) as unconverted_reason
from crm
full outer join fin on fin.period = crm.period
order by coalesce(crm.period, fin.period)
