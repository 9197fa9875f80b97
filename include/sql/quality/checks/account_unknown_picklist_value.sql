{#- An Account picklist value (any Account.<Field> stages.yaml picklists declares: Industry, Type,
    Rating ...) the policy does not list: a blocker naming each value, its count and sample ids.
    Scope: the owner's team and region. -#}
{% from 'quality/_picklist_unknown.sql' import owned_unknown_picklist_rows -%}
{{ owned_unknown_picklist_rows(tables.account, tables.user, object_picklists.account) }}
