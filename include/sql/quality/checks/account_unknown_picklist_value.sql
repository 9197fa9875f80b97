{#- An Account picklist value (any Account.<Field> stages.yaml picklists declares: Industry, Type,
    Rating ...) the policy does not list: a blocker naming each value, its count and sample ids.
    Scope: the owner's team and region. -#}
{% from 'quality/_picklist_unknown.sql' import unknown_picklist_rows -%}
{% import 'quality/_scope.sql' as scope -%}
with base as (
    select
        {{ scope.owner_scoped('a', 'u') | indent(8) }}
    from {{ tables.account }} as a
    left join {{ tables.user }} as u on a.owner_id = u.id
)

{{ unknown_picklist_rows('base', tables.account, object_picklists.account) }}
