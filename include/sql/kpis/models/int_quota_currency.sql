-- depends_on: dim_currency
-- grain: quota_id
-- description: Each ForecastingQuota's QuotaAmount in the corporate currency (issue 13). In a
-- description: multi-currency org a quota carries CurrencyIsoCode; Advanced Currency Management's
-- description: dated rates do not apply to quotas, so it converts at its currency's CurrencyType rate
-- description: (rules.sql corporate_amounts without dated rates); no currency = the corporate
-- description: currency. A quota whose currency has no rate stops the KPI build with the record,
-- description: field and source named (kpis/unconverted_amounts.sql): coverage is never computed
-- description: against a quota summed at face value or left out.
{% import 'rules.sql' as rules -%}
with quota as (
    select id as record_id, quota_amount as amount, period_start as rate_day, currency_iso_code
    from staging.stg_crm__quota
),

converted as (
    {{ rules.corporate_amounts('quota', currency_relation | default('marts.dim_currency'), 'StartDate', dated=none) | indent(4) }}
)

select
    {{ rules.corporate_amount_columns('quota_id', 'period_start', dated=false) | indent(4) }}
from converted
