{#- Validation of a proposed territory map: accounts no territory covers (no segment, a country no
    region lists, or a cell without territory) and no override pins. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with
{% include 'bulk_update/_territory_inputs.sql' %}

unplaced as (
    select
        t.id,
        t.name,
        t.billing_country,
        t.number_of_employees,
        t.segment,
        t.region
    from account_territory as t
    where t.territory is null
        and not exists (select 1 from pinned as p where p.account_id = t.id)
)

select * from unplaced order by id
