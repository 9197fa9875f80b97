{#- Closed-won opportunity with no finance booking (record = opportunity id). -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %}
select
    o.record_id, {{ scope.scope_columns('o') }},
    not exists (select 1 from {{ tables.booking }} b where b.opportunity_id = o.record_id) as failed,
    '' as detail,
    cast(null as varchar) as related_id
from opp o
where o.is_won
