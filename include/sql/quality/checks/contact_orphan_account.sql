{#- Contact whose AccountId references no account in staging. -#}
{% from 'quality/_orphan.sql' import orphan_rows -%}
{% import 'quality/_scope.sql' as scope -%}
with contact as (
    select
        {{ scope.owner_scoped('c', 'u') | indent(8) }},
        c.account_id
    from {{ tables.contact }} as c
    left join {{ tables.user }} as u on u.id = c.owner_id
)

{{ orphan_rows('contact', 'account_id', tables.account) }}
