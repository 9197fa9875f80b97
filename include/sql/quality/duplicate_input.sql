{#- Records the duplicate matcher compares, with their scope. `fields` maps matcher roles to columns. -#}
{% import 'quality/_scope.sql' as scope -%}
{%- if object == 'lead' %}
with {% include 'quality/_lead_base.sql' %}
select
    {{ scope.lead_scoped('l') }},
    l.created_at,
    {%- for role, column in fields.items() %}
    s.{{ column }} as {{ role }}{{ "," if not loop.last }}
    {%- endfor %}
from lead l
join {{ table }} s on s.id = l.record_id
{%- else %}
select
    {{ scope.owner_scoped('s', 'u') | indent(4) }},
    s.created_at,
    {%- for role, column in fields.items() %}
    s.{{ column }} as {{ role }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ table }} s
left join {{ tables.user }} u on u.id = s.owner_id
{%- endif %}
