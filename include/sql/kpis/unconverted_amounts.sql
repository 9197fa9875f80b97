{#- The quotas or finance bookings (currency_model = int_quota_currency | int_booking_currency) whose amount
    has a currency without a conversion rate: the KPI build stops naming each record, its field and
    value, the load batch and source it came from and, for a CSV export, its file and line (the raw
    row's _origin, rules.sql record_origin) and the column the export calls the currency (ops.field_label)
    (salesops/kpis/runner.py). One select; the model names the object, the model's record id
    column and the staging and raw tables it converts. -#}
{%- if currency_model == 'int_booking_currency' %}
{%- set model, object, id_column, staging, raw = 'int_booking_currency', 'FinanceBooking', 'booking_id', 'staging.stg_finance__booking', 'raw.finance__booking' %}
{%- else %}
{%- set model, object, id_column, staging, raw = 'int_quota_currency', 'ForecastingQuota', 'quota_id', 'staging.stg_crm__quota', 'raw.crm__quota' %}
{%- endif %}
{% import 'rules.sql' as rules -%}
with currency_label as (
    select min(label) as label
    from ops.field_label
    where object = '{{ object }}' and api_name = 'CurrencyIsoCode'
)

select
    '{{ object }}' as object,
    c.{{ id_column }} as record_id,
    c.currency_iso_code as currency,
    c.amount_original as amount,
    c.exclusion_reason as reason,
    s._batch_id as batch_id,
    a.source,
    {{ rules.record_origin(raw, 's') }} as origin,
    cl.label as currency_label
from marts.{{ model }} as c
inner join {{ staging }} as s on s.id = c.{{ id_column }}
left join ops.load_audit as a on a.batch_id = s._batch_id
cross join currency_label as cl
where c.is_excluded
order by record_id
