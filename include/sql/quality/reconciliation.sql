{#- CRM closed-won amount (by CloseDate) vs finance bookings (by BookingDate) per fiscal quarter of
    marts.dim_fiscal_calendar (the one fiscal calendar, salesops/reference.py, written by the
    quality run before its checks; the KPI mart agg_bookings_reconciliation joins the same table);
    closed-won as everywhere (rules.sql is_won, via quality/_opportunity_base.sql). Both sides in
    the corporate currency (_currency.sql, the KPI models' conversion); the deals and
    bookings of a period whose currency has no rate are counted (crm_unconverted,
    booked_unconverted, with one reason each) and the runner leaves that period not evaluated. -#}
{% import 'rules.sql' as rules -%}
{#- One side's totals per fiscal quarter: the corporate amount, the records, and the records whose
    currency has no rate (`unconverted`, with the first of their `unconverted_reason` as
    <unconverted>_reason). -#}
{%- macro period_totals(records, amount, count, unconverted) -%}
select
        c.fiscal_quarter_label as period,
        sum(r.amount_corporate) as {{ amount }},
        count(*) as {{ count }},
        sum(case when r.is_excluded then 1 else 0 end) as {{ unconverted }},
        min(case when r.is_excluded then r.unconverted_reason end) as {{ unconverted }}_reason
    from {{ records }} as r
    inner join calendar as c on c.date_day = r.period_day
    group by c.fiscal_quarter_label
{%- endmacro -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include '_currency.sql' %},
calendar as (
    select date_day, fiscal_quarter_label from marts.dim_fiscal_calendar
),

crm_record as (
    select
        o.close_date as period_day,
        oc.*,
        'opportunity ' || o.record_id || ': ' || oc.exclusion_reason as unconverted_reason
    from opp as o
    inner join opp_currency as oc on oc.opportunity_id = o.record_id
    where o.is_won and o.amount is not null
),

fin_record as (
    {#- a booking's reason names its file and line when it came from a CSV export (_currency.sql) -#}
    select b.booking_date as period_day, bc.*, bu.reason as unconverted_reason
    from {{ tables.booking }} as b
    inner join booking_currency as bc on bc.booking_id = b.id
    left join booking_unconverted as bu on bu.booking_id = b.id
    where b.amount is not null
),

crm as (
    {{ period_totals('crm_record', 'crm_amount', 'crm_deals', 'crm_unconverted') }}
),

fin as (
    {{ period_totals('fin_record', 'booked_amount', 'bookings', 'booked_unconverted') }}
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
