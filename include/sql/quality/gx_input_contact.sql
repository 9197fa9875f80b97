{#- The batch Great Expectations validates for contacts (scope = the owner's team/region). -#}
select
    c.id as record_id, c.owner_id, u.manager_id,
    coalesce(u.team, 'unknown') as team, coalesce(u.region, 'unknown') as region,
    cast(null as varchar) as segment,
    c.email
from {{ tables.contact }} c
left join {{ tables.user }} u on u.id = c.owner_id
