{#- CRM vs finance bookings by fiscal quarter (marts.agg_bookings_reconciliation), the last :quarters
    quarters up to the current one. Company-wide: finance bookings carry no owner. -#}
{% import 'rules.sql' as rules %}
with rec as (
    select * from marts.agg_bookings_reconciliation where period_grain = 'fiscal_quarter'
),

ctx as (
    select * from marts.kpi_context
),

quarters as (
    {{ rules.last_quarters('ctx') }}
)

select
    q.fiscal_quarter_label as period_label,
    coalesce(r.crm_bookings_count, 0) as crm_bookings_count,
    coalesce(r.crm_bookings_amount, 0) as crm_bookings_amount,
    coalesce(r.finance_bookings_count, 0) as finance_bookings_count,
    coalesce(r.finance_bookings_amount, 0) as finance_bookings_amount,
    coalesce(r.variance_amount, 0) as variance_amount,
    r.variance_pct,
    coalesce(r.crm_unmatched_count, 0) as crm_unmatched_count,
    coalesce(r.finance_unmatched_count, 0) as finance_unmatched_count
from quarters as q
left join rec as r on r.period_label = q.fiscal_quarter_label
order by q.fiscal_quarter_index
