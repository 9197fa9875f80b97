{#- A Contact picklist value (LeadSource, any Contact.<Field> stages.yaml picklists declares) the
    policy does not list: a blocker naming each value, its count and sample ids. Scope: the
    owner's team and region. -#}
{% from 'quality/_picklist_unknown.sql' import owned_unknown_picklist_rows -%}
{{ owned_unknown_picklist_rows(tables.contact, tables.user, object_picklists.contact) }}
