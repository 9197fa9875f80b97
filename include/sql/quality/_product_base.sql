{#- CTEs shared by the product catalogue checks (issue 15; policy include/config/products.yaml).
    Include after `with {% include 'quality/_opportunity_base.sql' %},`.
    - product, product_by_code, entry: the catalogue (_product_catalogue.sql, shared with the
      product-family bookings mart).
    - line: each OpportunityLineItem with its opportunity's scope, price book and currency, its
      product (_product_catalogue.sql line_product_id) and
      price_entry: the entry of the opportunity's price book for that product, in the line's
      currency (an entry or line without a currency matches any; an exact currency match wins). -#}
{% import 'quality/_scope.sql' as scope -%}
{% import '_product_catalogue.sql' as catalogue -%}
{{ catalogue.catalogue(tables.product, tables.pricebook_entry) }},

line_base as (
    select
        li.id as line_id,
        li.opportunity_id,
        {{ scope.scope_columns('o') }},
        so.pricebook_id,
        so.currency_iso_code as opp_currency,
        coalesce(li.currency_iso_code, so.currency_iso_code) as line_currency,
        coalesce(li.product_code, li.product_name, li.product_id) as product_label,
        {{ catalogue.line_product_id() }} as product_id,
        li.quantity,
        li.unit_price,
        li.list_price as line_list_price,
        li.discount,
        li.total_price
    from {{ tables.opportunity_line_item }} li
    inner join opp o on o.record_id = li.opportunity_id
    inner join {{ tables.opportunity }} so on so.id = li.opportunity_id
    {{ catalogue.line_product_joins('li') | indent(4) }}
),

entry_match as (
    select
        l.line_id,
        e.id as entry_id,
        e.list_price as entry_list_price,
        e.is_active as entry_is_active,
        row_number() over (
            partition by l.line_id
            order by case when e.currency_iso_code = l.line_currency then 0 else 1 end, e.id
        ) as pick
    from line_base l
    inner join entry e
        on e.pricebook_id = l.pricebook_id
        and e.product_id = l.product_id
        and (e.currency_iso_code is null or l.line_currency is null or e.currency_iso_code = l.line_currency)
),

line as (
    select
        l.*,
        p.name as product_name,
        p.is_active as product_is_active,
        pb.id as pricebook_found,
        pb.name as pricebook_name,
        em.entry_id,
        em.entry_list_price,
        em.entry_is_active
    from line_base l
    left join product p on p.id = l.product_id
    left join {{ tables.pricebook }} pb on pb.id = l.pricebook_id
    left join entry_match em on em.line_id = l.line_id and em.pick = 1
)
