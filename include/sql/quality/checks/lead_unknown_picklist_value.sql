{#- A Lead picklist value (Status, LeadSource, any Lead.<Field> stages.yaml picklists declares) the
    policy does not list: a blocker naming each value, its count and sample ids. Scope as the
    other lead checks: the team the territory rules route the lead to. -#}
{% import 'quality/_scope.sql' as scope -%}
{% from 'quality/_picklist_unknown.sql' import unknown_picklist_rows -%}
with {% include 'quality/_lead_base.sql' %},
base as (
    select {{ scope.lead_scoped() }}
    from lead
)

{{ unknown_picklist_rows('base', tables.lead, object_picklists.lead) }}
