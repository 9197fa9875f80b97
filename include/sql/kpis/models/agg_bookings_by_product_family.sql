-- depends_on: int_opportunity_enriched, dim_currency, dim_fiscal_calendar
-- grain: period_grain, period_label, product_family
-- description: Bookings by product family (issue 15): the line items (OpportunityLineItem) of Closed
-- description: Won opportunities per fiscal month, quarter and year of the opportunity's close date
-- description: and the family of the line's product (Product2.Family, the product found by
-- description: Product2Id, else its price book entry's product, else ProductCode; '(no family)' when
-- description: the product has none, '(unknown product)' when the catalogue does not have it).
-- description: bookings_amount = sum of TotalPrice in the corporate currency: a line in its
-- description: opportunity's currency converts at the opportunity's rate (int_opportunity_currency),
-- description: a line in another currency at that currency's DatedConversionRate covering the close
-- description: date, else its CurrencyType rate (rules.sql). Lines without TotalPrice or without a rate
-- description: are not summed: excluded_line_count counts them. The families' sum can differ from
-- description: the opportunities' Amount when they disagree (quality check line_item_amount_mismatch).
{% import 'rules.sql' as rules -%}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

line_item as (
    select * from staging.stg_crm__opportunity_line_item
),

product as (
    select * from staging.stg_crm__product
),

product_by_code as (
    select product_code, min(id) as product_id
    from product
    where product_code is not null
    group by product_code
),

entry as (
    select * from staging.stg_crm__pricebook_entry
),

dated as (
    select * from staging.stg_crm__dated_conversion_rate
    where conversion_rate > 0
),

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
        coalesce(p.id, ep.id, pc.product_id) as product_id
    from line_item as li
    inner join opportunity as o on o.opportunity_id = li.opportunity_id
    left join product as p on p.id = li.product_id
    left join entry as e on e.id = li.pricebook_entry_id
    left join product as ep on ep.id = e.product_id
    left join product_by_code as pc on pc.product_code = li.product_code
    where o.is_won
),

dated_match as (
    select
        wl.line_id,
        d.conversion_rate,
        row_number() over (partition by wl.line_id order by d.start_date desc, d.id desc) as pick
    from won_line as wl
    inner join dated as d
        on d.iso_code = wl.line_currency
        and {{ rules.dated_rate_covers('d', 'wl.close_date') }}
    where wl.line_currency <> wl.opportunity_currency
),

rated as (
    select
        wl.*,
        case
            when wl.line_currency = wl.opportunity_currency then wl.opportunity_rate
            when cur.is_corporate then 1.0
            when dm.conversion_rate is not null then dm.conversion_rate
            else cur.conversion_rate
        end as line_rate
    from won_line as wl
    left join dated_match as dm on dm.line_id = wl.line_id and dm.pick = 1
    left join currency as cur on cur.iso_code = wl.line_currency
),

classified as (
    select
        r.*,
        case
            when p.id is null then '(unknown product)'
            else coalesce(nullif(trim(p.family), ''), '(no family)')
        end as product_family,
        r.total_price is not null and r.line_rate is not null as is_summed,
        case
            when r.total_price is not null and r.line_rate is not null
                then {{ rules.to_corporate('r.total_price', 'r.line_rate') }}
        end as amount_corporate,
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
