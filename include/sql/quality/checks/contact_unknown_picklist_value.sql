{#- A Contact picklist value (LeadSource, any Contact.<Field> stages.yaml picklists declares) the
    policy does not list: a blocker naming each value, its count and sample ids. Scope: the
    owner's team and region. -#}
{% from 'quality/_picklist_unknown.sql' import unknown_picklist_rows -%}
with base as (
    select
        c.id as record_id,
        c.owner_id,
        u.manager_id,
        coalesce(u.team, 'unknown') as team,
        coalesce(u.region, 'unknown') as region,
        cast(null as varchar) as segment
    from {{ tables.contact }} as c
    left join {{ tables.user }} as u on c.owner_id = u.id
)

{{ unknown_picklist_rows('base', tables.contact, object_picklists.contact) }}
