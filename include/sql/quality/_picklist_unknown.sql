{#- The rows of an <object>_unknown_picklist_value check (salesops.quality.picklist_checks): every
    record of `base` (record_id + scope columns) evaluated, plus one failing row per record and
    picklist field whose value the policy (stages.yaml picklists) does not list. The detail names
    the field and the value as exported (the gate groups by it). An empty value is not a finding
    (required fields have their own rules). -#}
{% import 'quality/_scope.sql' as scope -%}
{%- macro unknown_picklist_rows(base, table, picklists) -%}
select
    b.record_id,
    {{ scope.scope_columns('b') }},
    false as failed,
    '' as detail,
    cast(null as varchar) as related_id
from {{ base }} as b
{%- for p in picklists %}
union all
{{ unknown_picklist_finding(base, table, p) }}
{%- endfor %}
{%- endmacro -%}

{#- One failing row per record of `base` whose picklist field `p` ({field, column, values}) holds a
    value the policy does not list (read from the staging `table` by id; an empty value is not a
    finding). Also used by the Opportunity blocking picklists of checks/policy_unknown_value.sql. -#}
{%- macro unknown_picklist_finding(base, table, p) -%}
select
    b.record_id,
    {{ scope.scope_columns('b') }},
    true as failed,
    {{ p.field }} || ' ' || chr(39) || s.{{ p.column }} || chr(39) as detail,
    cast(null as varchar) as related_id
from {{ base }} as b
inner join {{ table }} as s on b.record_id = s.id
where
    trim(s.{{ p.column }}) <> ''
    and s.{{ p.column }} not in (
    {%- for v in p["values"] %}
        {{ v }}{{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro -%}

{#- The whole check for an object a user owns (accounts, contacts): every record of the staging
    `table`, scoped by its owner (`user_table` joined on owner_id; quality/_scope.sql owner_scoped),
    evaluated against the object's `picklists` (unknown_picklist_rows). -#}
{%- macro owned_unknown_picklist_rows(table, user_table, picklists) -%}
with base as (
    select
        {{ scope.owner_scoped('r', 'u') | indent(8) }}
    from {{ table }} as r
    left join {{ user_table }} as u on r.owner_id = u.id
)

{{ unknown_picklist_rows('base', table, picklists) }}
{%- endmacro -%}
