{#- Opportunity whose OwnerId references no user in staging. -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %}
select
    o.record_id, {{ scope.scope_columns('o') }},
    u.id is null as failed,
    case when u.id is null then o.owner_id else '' end as detail,
    cast(null as varchar) as related_id
from opp o
left join users u on u.id = o.owner_id
where o.owner_id is not null
