-- depends_on: dim_currency
-- grain: opportunity_id
-- description: Each opportunity's amount in the corporate currency, as Salesforce's Advanced
-- description: Currency Management converts it: the DatedConversionRate of its CurrencyIsoCode whose
-- description: range covers its CloseDate (rate_source = 'dated'), else the currency's CurrencyType
-- description: rate ('currency_type'); the corporate currency converts at 1 ('corporate'); a record
-- description: without CurrencyIsoCode is in the corporate currency (single-currency org). The
-- description: original amount and currency are kept. currency_status 'no_rate' = no usable rate:
-- description: amount_corporate is null and, when the record has an amount, is_excluded is true and
-- description: exclusion_reason says why; every KPI leaves such an opportunity out (never summed at
-- description: face value, never counted as 0) and agg_currency_conversion shows how many.
-- description: The conversion is rules.sql corporate_amounts; the quality run includes this select
-- description: (_currency.sql) before the KPI build, with dim_currency's select over staging.
{% import 'rules.sql' as rules -%}
with opportunity as (
    select id as record_id, amount, close_date as rate_day, currency_iso_code
    from staging.stg_crm__opportunity
),

converted as (
    {{ rules.corporate_amounts('opportunity', currency_relation | default('marts.dim_currency'), 'CloseDate') | indent(4) }}
)

select
    {{ rules.corporate_amount_columns('opportunity_id', 'close_date') | indent(4) }}
from converted
