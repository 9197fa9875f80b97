{#- Contact whose AccountId references no account in staging. -#}
select
    c.id as record_id, c.owner_id, u.manager_id,
    coalesce(u.team, 'unknown') as team, coalesce(u.region, 'unknown') as region,
    cast(null as varchar) as segment,
    a.id is null as failed,
    case when a.id is null then c.account_id else '' end as detail,
    cast(null as varchar) as related_id
from {{ tables.contact }} c
left join {{ tables.account }} a on a.id = c.account_id
left join {{ tables.user }} u on u.id = c.owner_id
where c.account_id is not null
