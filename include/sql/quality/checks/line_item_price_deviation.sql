{#- Line item whose effective sales price (UnitPrice less its Discount %) is more than products.yaml
    line_items.max_discount_pct below, or more than max_markup_pct above, its list price: the line's
    ListPrice (the entry's price when the item was added), else its price book entry's UnitPrice
    (record = line item id, related = opportunity id). Evaluated where both prices are known and the
    list price is above 0. -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include 'quality/_product_base.sql' %},
priced as (
    select
        l.*,
        coalesce(l.line_list_price, l.entry_list_price) as list_price,
        l.unit_price * (1 - coalesce(l.discount, 0) / 100.0) as effective_price
    from line l
    where l.unit_price is not null
      and coalesce(l.line_list_price, l.entry_list_price) > 0
),

judged as (
    select
        p.*,
        (p.effective_price - p.list_price) * 100.0 / p.list_price as deviation_pct
    from priced p
)

select
    line_id as record_id, {{ scope.scope_columns() }},
    (deviation_pct < -{{ products.max_discount_pct }} - 1e-9 or deviation_pct > {{ products.max_markup_pct }} + 1e-9) as failed,
    case
        when deviation_pct < -{{ products.max_discount_pct }} - 1e-9
            then 'price ' || cast(cast(effective_price as decimal(18, 2)) as varchar) || ' is '
                || cast(cast(-deviation_pct as decimal(9, 1)) as varchar) || ' % below list price '
                || cast(cast(list_price as decimal(18, 2)) as varchar) || ' (policy allows '
                || cast(cast({{ products.max_discount_pct }} as decimal(9, 1)) as varchar) || ' %)'
        when deviation_pct > {{ products.max_markup_pct }} + 1e-9
            then 'price ' || cast(cast(effective_price as decimal(18, 2)) as varchar) || ' is '
                || cast(cast(deviation_pct as decimal(9, 1)) as varchar) || ' % above list price '
                || cast(cast(list_price as decimal(18, 2)) as varchar) || ' (policy allows '
                || cast(cast({{ products.max_markup_pct }} as decimal(9, 1)) as varchar) || ' %)'
        else ''
    end as detail,
    opportunity_id as related_id
from judged
