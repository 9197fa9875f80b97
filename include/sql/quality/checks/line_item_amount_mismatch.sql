{#- Opportunity whose Amount differs from the sum of its line items' TotalPrice by more than
    products.yaml line_items.amount_tolerance (record = opportunity id). Compared in the
    opportunity's currency when every line item is in it (Salesforce keeps them equal); when a line
    item is in another currency, both sides are converted to the corporate currency by the one
    conversion, rules.sql corporate_amounts (the deal: int_opportunity_currency via
    _currency.sql; each line item at its opportunity's CloseDate: the DatedConversionRate
    covering it, else CurrencyType; the corporate currency is CurrencyType's IsCorporate, else
    kpis.yaml currency.corporate), allowing a cent of rounding per converted line. Left out
    (not evaluated): opportunities without an Amount, closed-lost ones at 0 when hygiene allows it,
    ones with a line item without TotalPrice, and converted ones lacking a rate. -#}
{% import 'quality/_scope.sql' as scope -%}
{% import 'rules.sql' as rules -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include 'quality/_product_base.sql' %},
{% include '_currency.sql' %},
line_amount as (
    select
        l.line_id,
        l.opportunity_id,
        l.total_price,
        coalesce(l.line_currency, oc.currency_iso_code) as currency_iso_code,
        coalesce(l.line_currency, oc.currency_iso_code) <> oc.currency_iso_code as is_converted,
        oc.close_date
    from line l
    inner join opp_currency oc on oc.opportunity_id = l.opportunity_id
),

mixed as (
    select opportunity_id from line_amount where is_converted group by opportunity_id
),

mixed_line as (
    select
        la.line_id as record_id,
        la.currency_iso_code,
        la.total_price as amount,
        la.close_date as rate_day
    from line_amount la
    inner join mixed m on m.opportunity_id = la.opportunity_id
),

line_corporate as (
    {{ rules.corporate_amounts('mixed_line', 'staged_currency', 'CloseDate', dated=tables.dated_conversion_rate) | indent(4) }}
),

per_deal as (
    select
        la.opportunity_id,
        count(*) as line_count,
        count(la.total_price) as priced_count,
        sum(la.total_price) as lines_total,
        sum(case when la.is_converted then 1 else 0 end) as converted_count,
        sum(lc.amount_corporate) as lines_corporate,
        sum(case when m.opportunity_id is not null and lc.conversion_rate is null then 1 else 0 end) as rateless_count
    from line_amount la
    left join mixed m on m.opportunity_id = la.opportunity_id
    left join line_corporate lc on lc.record_id = la.line_id
    group by la.opportunity_id
),

compared as (
    select
        o.record_id, {{ scope.scope_columns('o') }},
        oc.amount_original as amount,
        oc.currency_iso_code,
        oc.corporate_currency,
        pd.lines_total,
        pd.converted_count > 0 as is_converted,
        pd.lines_corporate,
        oc.amount_corporate,
        pd.converted_count
    from opp o
    inner join per_deal pd on pd.opportunity_id = o.record_id
    inner join opp_currency oc on oc.opportunity_id = o.record_id
    where oc.amount_original is not null
      and pd.priced_count = pd.line_count
      and pd.rateless_count = 0
      and (pd.converted_count = 0 or oc.conversion_rate is not null)
      and not (not o.is_open and not o.is_won and oc.amount_original = 0 and {{ lost_zero_allowed }})
),

judged as (
    select
        c.*,
        case
            when c.is_converted
                then abs(c.lines_corporate - c.amount_corporate) > {{ products.amount_tolerance }} + 0.01 * c.converted_count
            else abs(c.lines_total - c.amount) > {{ products.amount_tolerance }}
        end as is_mismatch
    from compared c
)

select
    record_id, {{ scope.scope_columns() }},
    is_mismatch as failed,
    case
        when not is_mismatch then ''
        when is_converted
            then 'line items ' || cast(cast(lines_corporate as decimal(18, 2)) as varchar) || ' ' || corporate_currency
                || ' vs Amount ' || cast(cast(amount as decimal(18, 2)) as varchar) || ' ' || currency_iso_code
                || case
                    when currency_iso_code <> corporate_currency
                        then ' = ' || cast(cast(amount_corporate as decimal(18, 2)) as varchar) || ' ' || corporate_currency
                    else ''
                end
                || ' (' || cast(converted_count as varchar) || ' line item(s) converted)'
        else 'line items ' || cast(cast(lines_total as decimal(18, 2)) as varchar)
            || ' vs Amount ' || cast(cast(amount as decimal(18, 2)) as varchar) || ' ' || currency_iso_code
    end as detail,
    cast(null as varchar) as related_id
from judged
