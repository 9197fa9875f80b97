-- depends_on: int_opportunity_enriched, dim_currency, dim_fiscal_calendar
-- grain: period_grain, period_label, product_family
-- description: Bookings by product family (issue 15): the line items (OpportunityLineItem) of Closed
-- description: Won opportunities per fiscal month, quarter and year of the opportunity's close date
-- description: and the family of the line's product (Product2.Family, the product found by
-- description: Product2Id, else its price book entry's product (the entry's Product2Id, else its
-- description: ProductCode), else ProductCode - _product_catalogue.sql, the same as the product
-- description: checks; '(no family)' when
-- description: the product has none, '(unknown product)' when the catalogue does not have it).
-- description: bookings_amount = sum of TotalPrice in the corporate currency, converted as the
-- description: opportunity is (rules.sql corporate_amounts): the DatedConversionRate of the line's
-- description: currency covering the close date, else its CurrencyType rate (a line in the
-- description: opportunity's currency therefore at the opportunity's rate). Lines without TotalPrice or without a rate
-- description: are not summed: excluded_line_count counts them. The families' sum can differ from
-- description: the opportunities' Amount when they disagree (quality check line_item_amount_mismatch).
{% import 'rules.sql' as rules -%}
{% import '_product_catalogue.sql' as catalogue -%}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

line_item as (
    select * from staging.stg_crm__opportunity_line_item
),

{{ catalogue.catalogue('staging.stg_crm__product', 'staging.stg_crm__pricebook_entry') }},

currency as (
    select * from marts.dim_currency
),

calendar as (
    select * from marts.dim_fiscal_calendar
),

won_line as (
    select
        li.id as line_id,
        o.opportunity_id,
        o.close_date,
        o.currency_iso_code as opportunity_currency,
        o.conversion_rate as opportunity_rate,
        coalesce(li.currency_iso_code, o.currency_iso_code) as line_currency,
        li.total_price,
        li.quantity,
        {{ catalogue.line_product_id() }} as product_id
    from line_item as li
    inner join opportunity as o on o.opportunity_id = li.opportunity_id
    {{ catalogue.line_product_joins('li') | indent(4) }}
    where o.is_won
),

line_record as (
    select line_id as record_id, line_currency as currency_iso_code, total_price as amount, close_date as rate_day
    from won_line
),

line_converted as (
    {{ rules.corporate_amounts('line_record', 'currency', 'CloseDate') | indent(4) }}
),

rated as (
    select
        wl.*,
        lc.conversion_rate as line_rate,
        lc.amount_corporate as line_amount_corporate
    from won_line as wl
    inner join line_converted as lc on lc.record_id = wl.line_id
),

classified as (
    select
        r.*,
        case
            when p.id is null then '(unknown product)'
            else coalesce(nullif(trim(p.family), ''), '(no family)')
        end as product_family,
        r.total_price is not null and r.line_rate is not null as is_summed,
        case when r.total_price is not null and r.line_rate is not null then r.line_amount_corporate end as amount_corporate,
        c.fiscal_month_label,
        c.fiscal_quarter_label,
        c.fiscal_year_label
    from rated as r
    inner join calendar as c on c.date_day = r.close_date
    left join product as p on p.id = r.product_id
),

by_period as (
{{- rules.bookings_by_period('classified', period_grains, [
    'count(distinct opportunity_id) as opportunity_count',
    'count(*) as line_count',
    'sum(case when is_summed then 0 else 1 end) as excluded_line_count',
    'sum(quantity) as quantity',
    'coalesce(sum(amount_corporate), 0) as bookings_amount',
], ['product_family']) }}
)

select * from by_period
