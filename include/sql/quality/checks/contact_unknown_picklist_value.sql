{#- A Contact picklist value (LeadSource, any Contact.<Field> stages.yaml picklists declares) the
    policy does not list: a blocker naming each value, its count and sample ids. Scope: the
    owner's team and region. -#}
{% from 'quality/_picklist_unknown.sql' import unknown_picklist_rows -%}
{% import 'quality/_scope.sql' as scope -%}
with base as (
    select
        {{ scope.owner_scoped('c', 'u') | indent(8) }}
    from {{ tables.contact }} as c
    left join {{ tables.user }} as u on c.owner_id = u.id
)

{{ unknown_picklist_rows('base', tables.contact, object_picklists.contact) }}
