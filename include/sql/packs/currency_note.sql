{#- What a pack says about currency: the corporate currency its amounts are in and, per opportunity
    currency, how many deals were converted and how many were left out for lack of a rate. -#}
with conversion as (
    select * from marts.agg_currency_conversion
),

currency as (
    select * from marts.dim_currency
)

select
    c.iso_code as corporate_currency,
    v.currency_iso_code,
    v.opportunities_converted,
    v.opportunities_excluded
from currency as c
left join conversion as v on true
where c.is_corporate
order by v.currency_iso_code
