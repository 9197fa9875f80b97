{#- Opportunity whose AccountId references no account in staging (empty AccountId is a
    required-field exception, not an orphan). -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %}
select
    o.record_id, {{ scope.scope_columns('o') }},
    a.id is null as failed,
    case when a.id is null then o.account_id else '' end as detail,
    cast(null as varchar) as related_id
from opp o
left join {{ tables.account }} a on a.id = o.account_id
where o.account_id is not null
