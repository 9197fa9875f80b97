{#- Opportunity whose Amount differs from the sum of its line items' TotalPrice by more than
    products.yaml line_items.amount_tolerance (record = opportunity id). Compared in the
    opportunity's currency when every line item is in it (Salesforce keeps them equal); when a line
    item is in another currency, both sides are converted to the corporate currency with the rules
    of int_opportunity_currency (rules.sql dated_rate_covers / to_corporate: the DatedConversionRate
    covering the CloseDate, else CurrencyType; the corporate currency is CurrencyType's IsCorporate,
    else kpis.yaml currency.corporate), allowing a cent of rounding per converted line. Left out
    (not evaluated): opportunities without an Amount, closed-lost ones at 0 when hygiene allows it,
    ones with a line item without TotalPrice, and converted ones lacking a rate. -#}
{% import 'quality/_scope.sql' as scope -%}
{% import 'rules.sql' as rules -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include 'quality/_product_base.sql' %},
corporate as (
    select coalesce(
        (select min(iso_code) from {{ tables.currency_type }} where is_corporate),
        {{ products.corporate_currency }}
    ) as iso_code
),

deal as (
    select
        so.id as opportunity_id,
        so.amount,
        so.close_date,
        coalesce(so.currency_iso_code, c.iso_code) as currency_iso_code,
        c.iso_code as corporate_currency
    from {{ tables.opportunity }} so
    cross join corporate c
),

line_amount as (
    select
        l.line_id,
        l.opportunity_id,
        l.total_price,
        coalesce(l.line_currency, d.currency_iso_code) as currency_iso_code,
        coalesce(l.line_currency, d.currency_iso_code) <> d.currency_iso_code as is_converted
    from line l
    inner join deal d on d.opportunity_id = l.opportunity_id
),

mixed as (
    select opportunity_id from line_amount where is_converted group by opportunity_id
),

pairs as (
    select d.opportunity_id, d.close_date, d.currency_iso_code, d.corporate_currency
    from deal d
    inner join mixed m on m.opportunity_id = d.opportunity_id
    union
    select d.opportunity_id, d.close_date, la.currency_iso_code, d.corporate_currency
    from line_amount la
    inner join mixed m on m.opportunity_id = la.opportunity_id
    inner join deal d on d.opportunity_id = la.opportunity_id
),

dated_pick as (
    select
        p.opportunity_id,
        p.currency_iso_code,
        r.conversion_rate,
        row_number() over (
            partition by p.opportunity_id, p.currency_iso_code order by r.start_date desc, r.id desc
        ) as pick
    from pairs p
    inner join {{ tables.dated_conversion_rate }} r
        on r.iso_code = p.currency_iso_code
        and r.conversion_rate > 0
        and {{ rules.dated_rate_covers('r', 'p.close_date') }}
),

static_rate as (
    select iso_code, min(conversion_rate) as conversion_rate
    from {{ tables.currency_type }}
    where conversion_rate > 0
    group by iso_code
),

rate as (
    select
        p.opportunity_id,
        p.currency_iso_code,
        case
            when p.currency_iso_code = p.corporate_currency then 1.0
            when dp.conversion_rate is not null then dp.conversion_rate
            else sr.conversion_rate
        end as conversion_rate
    from pairs p
    left join dated_pick dp
        on dp.opportunity_id = p.opportunity_id and dp.currency_iso_code = p.currency_iso_code and dp.pick = 1
    left join static_rate sr on sr.iso_code = p.currency_iso_code
),

per_deal as (
    select
        la.opportunity_id,
        count(*) as line_count,
        count(la.total_price) as priced_count,
        sum(la.total_price) as lines_total,
        sum(case when la.is_converted then 1 else 0 end) as converted_count,
        sum({{ rules.to_corporate('la.total_price', 'r.conversion_rate') }}) as lines_corporate,
        sum(case when m.opportunity_id is not null and r.conversion_rate is null then 1 else 0 end) as rateless_count
    from line_amount la
    left join mixed m on m.opportunity_id = la.opportunity_id
    left join rate r on r.opportunity_id = la.opportunity_id and r.currency_iso_code = la.currency_iso_code
    group by la.opportunity_id
),

compared as (
    select
        o.record_id, {{ scope.scope_columns('o') }},
        d.amount,
        d.currency_iso_code,
        d.corporate_currency,
        pd.lines_total,
        pd.converted_count > 0 as is_converted,
        pd.lines_corporate,
        {{ rules.to_corporate('d.amount', 'dr.conversion_rate') }} as amount_corporate,
        pd.converted_count
    from opp o
    inner join per_deal pd on pd.opportunity_id = o.record_id
    inner join deal d on d.opportunity_id = o.record_id
    left join rate dr on dr.opportunity_id = d.opportunity_id and dr.currency_iso_code = d.currency_iso_code
    where d.amount is not null
      and pd.priced_count = pd.line_count
      and pd.rateless_count = 0
      and (pd.converted_count = 0 or dr.conversion_rate is not null)
      and not (not o.is_open and not o.is_won and d.amount = 0 and {{ lost_zero_allowed }})
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
