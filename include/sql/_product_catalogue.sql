{#- The product catalogue as every product rule reads it: the product checks
    (quality/_product_base.sql) and the product-family bookings (kpis agg_bookings_by_product_family).
    - catalogue(product_table, entry_table): the CTEs product (Product2), product_by_code (the lowest
      id per ProductCode: exports often name a product by its code only) and entry (PricebookEntry
      with its product resolved: Product2Id, else its ProductCode).
    - line_product_joins(line) + line_product_id(): a line item's product - its Product2Id, else its
      PricebookEntryId's product, else its ProductCode. -#}
{% macro catalogue(product_table, entry_table) -%}
product as (
    select id, name, product_code, family, is_active from {{ product_table }}
),

product_by_code as (
    select product_code, min(id) as product_id
    from product
    where product_code is not null
    group by product_code
),

entry as (
    select
        e.id,
        e.pricebook_id,
        coalesce(p.id, pc.product_id) as product_id,
        e.list_price,
        e.currency_iso_code,
        e.is_active
    from {{ entry_table }} as e
    left join product as p on p.id = e.product_id
    left join product_by_code as pc on pc.product_code = e.product_code
)
{%- endmacro %}

{% macro line_product_joins(line) -%}
left join product as line_product on line_product.id = {{ line }}.product_id
left join entry as line_entry on line_entry.id = {{ line }}.pricebook_entry_id
left join product_by_code as line_code on line_code.product_code = {{ line }}.product_code
{%- endmacro %}

{% macro line_product_id() -%}
coalesce(line_product.id, line_entry.product_id, line_code.product_id)
{%- endmacro %}
