{#- Open exceptions of the scope per owner and check: what each rep must fix (scoped as exceptions.sql). -#}
{% import 'packs/_scope.sql' as s %}
select
    coalesce(q.owner_id, '(none)') as owner_id,
    coalesce(u.name, q.owner_id, '(unassigned)') as owner_name,
    coalesce(u.team, q.team) as team,
    q.check_id,
    count(*) as open_count,
    min(q.first_seen) as oldest_first_seen
from quality.exception_queue as q
left join staging.stg_crm__user as u on u.id = q.owner_id
where q.status = 'open'
  and {{ s.scope_filter('coalesce(u.region, q.region)', 'coalesce(u.team, q.team)', 'q.owner_id') }}
group by coalesce(q.owner_id, '(none)'), coalesce(u.name, q.owner_id, '(unassigned)'), coalesce(u.team, q.team), q.check_id
order by count(*) desc, coalesce(u.name, q.owner_id, '(unassigned)'), q.check_id
