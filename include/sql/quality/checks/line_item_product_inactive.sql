{#- Line item on an open or won opportunity whose product (Product2.IsActive) or price book entry
    (PricebookEntry.IsActive) is inactive: selling something that is no longer sold (record = line
    item id, related = opportunity id). Lost deals are left out: a product retired after the loss
    is no finding. -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include 'quality/_product_base.sql' %}
select
    l.line_id as record_id, {{ scope.scope_columns('l') }},
    (coalesce(not l.product_is_active, false) or coalesce(not l.entry_is_active, false)) as failed,
    case
        when coalesce(not l.product_is_active, false)
            then 'product ' || coalesce(l.product_label, l.product_id) || ' is inactive'
        when coalesce(not l.entry_is_active, false)
            then 'product ' || coalesce(l.product_label, l.product_id) || ' is inactive in price book '
                || coalesce(l.pricebook_name, l.pricebook_id)
        else ''
    end as detail,
    l.opportunity_id as related_id
from line l
inner join opp o on o.record_id = l.opportunity_id
where l.product_id is not null
  and (o.is_open or o.is_won)
