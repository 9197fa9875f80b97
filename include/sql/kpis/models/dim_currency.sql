-- depends_on: kpi_context
-- grain: iso_code
-- description: Every currency the source knows (Salesforce CurrencyType; HubSpot's account
-- description: currencies) plus the corporate currency, with its static conversion rate (units per
-- description: 1 unit of the corporate currency; corporate = 1). The corporate currency is the
-- description: source's own (IsCorporate) when it has one (corporate_source = 'source'), else
-- description: kpis.yaml currency.corporate (corporate_source = 'policy': single-currency orgs,
-- description: CSV exports, the demo CRM). A rate that is missing or not above 0 is null.
with currency_type as (
    select * from staging.stg_crm__currency_type
),

ctx as (
    {%- if corporate_currency_policy is defined %}
    -- the quality run includes this select before the KPI build (_currency.sql): the
    -- policy's code (kpis.yaml currency.corporate) instead of marts.kpi_context, which it is from
    select {{ corporate_currency_policy }} as corporate_currency
    {%- else %}
    select * from marts.kpi_context
    {%- endif %}
),

source_corporate as (
    select min(iso_code) as iso_code
    from currency_type
    where is_corporate
),

corporate as (
    select
        coalesce(s.iso_code, c.corporate_currency) as iso_code,
        case when s.iso_code is not null then 'source' else 'policy' end as corporate_source
    from ctx as c
    cross join source_corporate as s
),

currencies as (
    select iso_code from currency_type
    union
    select iso_code from corporate
)

select
    cur.iso_code,
    cur.iso_code = corp.iso_code as is_corporate,
    corp.corporate_source,
    case
        when cur.iso_code = corp.iso_code then 1.0
        when ct.conversion_rate > 0 then ct.conversion_rate
    end as conversion_rate,
    ct.decimal_places,
    coalesce(ct.is_active, cur.iso_code = corp.iso_code) as is_active
from currencies as cur
cross join corporate as corp
left join currency_type as ct on ct.iso_code = cur.iso_code
