{#- Warehouse total for the pack check: open exceptions of the scope in quality.exception_queue. -#}
{% import 'packs/_scope.sql' as s %}
select count(*) as open_exceptions
from quality.exception_queue as q
left join staging.stg_crm__user as u on u.id = q.owner_id
where q.status = 'open'
  and {{ s.scope_filter('coalesce(u.region, q.region)', 'coalesce(u.team, q.team)', 'q.owner_id') }}
  {% if checks %}and q.check_id in ({% for c in checks %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}
