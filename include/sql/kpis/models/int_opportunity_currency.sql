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
{% import 'rules.sql' as rules -%}
with opportunity as (
    select id, amount, close_date, currency_iso_code from staging.stg_crm__opportunity
),

dated as (
    select * from staging.stg_crm__dated_conversion_rate
    where conversion_rate > 0
),

currency as (
    select * from marts.dim_currency
),

corporate as (
    select iso_code from currency where is_corporate
),

resolved as (
    select
        o.id as opportunity_id,
        coalesce(o.currency_iso_code, corp.iso_code) as currency_iso_code,
        o.currency_iso_code is null as currency_defaulted,
        corp.iso_code as corporate_currency,
        o.amount as amount_original,
        o.close_date
    from opportunity as o
    cross join corporate as corp
),

dated_match as (
    -- overlapping ranges (bad rate data) must not duplicate an opportunity: the latest start wins
    select
        r.opportunity_id,
        d.conversion_rate,
        d.start_date,
        row_number() over (partition by r.opportunity_id order by d.start_date desc, d.id desc) as pick
    from resolved as r
    inner join dated as d
        on d.iso_code = r.currency_iso_code
        and {{ rules.dated_rate_covers('d', 'r.close_date') }}
),

rated as (
    select
        r.*,
        case
            when r.currency_iso_code = r.corporate_currency then 1.0
            when dm.conversion_rate is not null then dm.conversion_rate
            else c.conversion_rate
        end as conversion_rate,
        case
            when r.currency_iso_code = r.corporate_currency then 'corporate'
            when dm.conversion_rate is not null then 'dated'
            when c.conversion_rate is not null then 'currency_type'
        end as rate_source,
        case when r.currency_iso_code <> r.corporate_currency then dm.start_date end as rate_start_date
    from resolved as r
    left join dated_match as dm on dm.opportunity_id = r.opportunity_id and dm.pick = 1
    left join currency as c on c.iso_code = r.currency_iso_code
)

select
    opportunity_id,
    currency_iso_code,
    currency_defaulted,
    corporate_currency,
    amount_original,
    close_date,
    conversion_rate,
    rate_source,
    rate_start_date,
    case
        when rate_source = 'corporate' then amount_original
        when conversion_rate is not null then {{ rules.to_corporate('amount_original', 'conversion_rate') }}
    end as amount_corporate,
    case
        when rate_source = 'corporate' then 'corporate'
        when rate_source is not null then 'converted'
        else 'no_rate'
    end as currency_status,
    rate_source is null and amount_original is not null as is_excluded,
    case
        when rate_source is null and amount_original is not null then
            'no conversion rate for ' || currency_iso_code || ' to ' || corporate_currency
            || ': no DatedConversionRate covers CloseDate '
            || coalesce(cast(close_date as varchar), '(none)')
            || ' and CurrencyType has no usable ' || currency_iso_code || ' rate'
    end as exclusion_reason
from rated
