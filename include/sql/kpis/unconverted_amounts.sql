{#- The quotas or finance bookings (currency_model = int_quota_currency | int_booking_currency) whose amount
    has a currency without a conversion rate: the KPI build stops naming each record, its field and
    value, and the load batch and source it came from (salesops/kpis/runner.py). One select; the
    model names the object, the model's record id column and the staging table it converts. -#}
{%- if currency_model == 'int_booking_currency' %}
{%- set model, object, id_column, staging = 'int_booking_currency', 'FinanceBooking', 'booking_id', 'staging.stg_finance__booking' %}
{%- else %}
{%- set model, object, id_column, staging = 'int_quota_currency', 'ForecastingQuota', 'quota_id', 'staging.stg_crm__quota' %}
{%- endif %}
select
    '{{ object }}' as object,
    c.{{ id_column }} as record_id,
    c.currency_iso_code as currency,
    c.amount_original as amount,
    c.exclusion_reason as reason,
    s._batch_id as batch_id,
    a.source
from marts.{{ model }} as c
inner join {{ staging }} as s on s.id = c.{{ id_column }}
left join ops.load_audit as a on a.batch_id = s._batch_id
where c.is_excluded
order by record_id
