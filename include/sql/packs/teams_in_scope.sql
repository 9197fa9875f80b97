{#- The teams inside a scope (for per-team breakdowns of an all / region pack). -#}
{% import 'packs/_scope.sql' as s %}
select distinct u.team
from staging.stg_crm__user as u
where u.team is not null
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
order by 1
