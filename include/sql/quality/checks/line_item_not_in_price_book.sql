{#- Line item whose product the catalogue does not know, or that its opportunity's price book does
    not list in the line's currency (record = line item id, related = opportunity id). Evaluated for
    line items whose opportunity names a price book that exists (the others are
    opp_line_items_without_price_book's). -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include 'quality/_product_base.sql' %}
select
    line_id as record_id, {{ scope.scope_columns() }},
    (product_id is null or entry_id is null) as failed,
    case
        when product_id is null
            then 'product ' || coalesce(product_label, '(none)') || ' is not in the product catalogue (Product2)'
        when entry_id is null
            then 'product ' || coalesce(product_label, product_id) || ' has no '
                || coalesce(line_currency || ' ', '') || 'entry in price book ' || coalesce(pricebook_name, pricebook_id)
        else ''
    end as detail,
    opportunity_id as related_id
from line
where pricebook_found is not null
