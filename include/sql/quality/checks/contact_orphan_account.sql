{#- Contact whose AccountId references no account in staging. -#}
{% import 'quality/_scope.sql' as scope -%}
select
    {{ scope.owner_scoped('c', 'u') | indent(4) }},
    a.id is null as failed,
    case when a.id is null then c.account_id else '' end as detail,
    cast(null as varchar) as related_id
from {{ tables.contact }} c
left join {{ tables.account }} a on a.id = c.account_id
left join {{ tables.user }} u on u.id = c.owner_id
where c.account_id is not null
