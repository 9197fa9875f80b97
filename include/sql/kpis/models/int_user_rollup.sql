-- depends_on:
-- grain: user_id, rollup_level
-- description: Every user who owns an opportunity or a quota (or exists in the user table), once
-- description: per rollup level, with the key and label of the group they roll up into (rep = the
-- description: user, manager = their manager, region/segment/team = their territory, company = all).
-- description: An opportunity without an owner rolls up under the user_id '(none)'.
with users as (
    select * from staging.stg_crm__user
),

owners as (
    select id as user_id from users
    union
    select coalesce(owner_id, '(none)') from staging.stg_crm__opportunity
    union
    select coalesce(owner_id, '(none)') from staging.stg_crm__quota
),

enriched as (
    select
        o.user_id,
        u.name as user_name,
        u.user_role,
        u.manager_id,
        m.name as manager_name,
        u.region,
        u.segment,
        u.team
    from owners as o
    left join users as u on u.id = o.user_id
    left join users as m on m.id = u.manager_id
),

levels as (
{%- for level in rollup_levels %}
    select
        user_id,
        user_role,
        '{{ level.name }}' as rollup_level,
        {{ level.key }} as rollup_key,
        {{ level.label }} as rollup_label
    from enriched
{%- if not loop.last %}
    union all
{%- endif %}
{%- endfor %}
)

select
    user_id,
    user_role,
    rollup_level,
    coalesce(rollup_key, '(none)') as rollup_key,
    coalesce(rollup_label, '(none)') as rollup_label
from levels
