{#- The quotas or finance bookings (currency_model = int_quota_currency | int_booking_currency) whose amount
    has a currency without a conversion rate: the KPI build stops naming each record, its field and
    value, and the load batch and source it came from (salesops/kpis/runner.py). -#}
{%- if currency_model == 'int_booking_currency' %}
select
    'FinanceBooking' as object,
    c.booking_id as record_id,
    c.currency_iso_code as currency,
    c.amount_original as amount,
    c.exclusion_reason as reason,
    s._batch_id as batch_id,
    a.source
from marts.int_booking_currency as c
inner join staging.stg_finance__booking as s on s.id = c.booking_id
left join ops.load_audit as a on a.batch_id = s._batch_id
where c.is_excluded
{%- else %}
select
    'ForecastingQuota' as object,
    c.quota_id as record_id,
    c.currency_iso_code as currency,
    c.amount_original as amount,
    c.exclusion_reason as reason,
    s._batch_id as batch_id,
    a.source
from marts.int_quota_currency as c
inner join staging.stg_crm__quota as s on s.id = c.quota_id
left join ops.load_audit as a on a.batch_id = s._batch_id
where c.is_excluded
{%- endif %}
order by record_id
