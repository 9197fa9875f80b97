{#- The batch Great Expectations validates for contacts (scope = the owner's team/region). -#}
{% import 'quality/_scope.sql' as scope -%}
select
    {{ scope.owner_scoped('c', 'u') | indent(4) }},
    c.email
from {{ tables.contact }} c
left join {{ tables.user }} u on u.id = c.owner_id
