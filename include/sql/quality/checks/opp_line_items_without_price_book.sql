{#- Opportunity with line items but no price book (Pricebook2Id empty, or naming a price book the
    catalogue does not have): its line items have no list price to be checked against
    (record = opportunity id). -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include 'quality/_product_base.sql' %},
deal as (
    select
        opportunity_id,
        min(pricebook_id) as pricebook_id,
        min(pricebook_found) as pricebook_found,
        {{ scope.first_scope() }}
    from line
    group by opportunity_id
)

select
    opportunity_id as record_id, {{ scope.scope_columns() }},
    pricebook_found is null as failed,
    case
        when pricebook_id is null then 'no price book'
        when pricebook_found is null then 'price book ' || pricebook_id || ' is not in the catalogue (Pricebook2)'
        else ''
    end as detail,
    cast(null as varchar) as related_id
from deal
