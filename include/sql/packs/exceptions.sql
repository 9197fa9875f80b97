{#- The open exception queue of the scope (quality.exception_queue), oldest first, with the owner's
    name; age in days against the latest quality run's as-of time. A record belongs to its owner's
    region/team (as every other pack row does); records without a known owner to the region/team
    the quality run attributed them to (e.g. an unassigned lead's routed team). -#}
{% import 'packs/_scope.sql' as s %}
{% import 'macros.sql' as m with context %}
with queue as (
    select * from quality.exception_queue where status = 'open'
),

latest as (
    select max(as_of) as as_of from quality.run
)

select
    q.check_id,
    q.object,
    q.record_id,
    q.detail,
    -- the exception in words: field label, wrong value, expected value (quality/messages.py)
    coalesce(q.message, q.detail) as message,
    q.severity,
    q.owner_id,
    coalesce(u.name, q.owner_id, '(unassigned)') as owner_name,
    coalesce(u.team, q.team) as team,
    coalesce(u.region, q.region) as region,
    q.first_seen,
    {{ m.datediff_days('cast(q.first_seen as date)', 'cast(latest.as_of as date)') }} as age_days
from queue as q
cross join latest
left join staging.stg_crm__user as u on u.id = q.owner_id
where {{ s.scope_filter('coalesce(u.region, q.region)', 'coalesce(u.team, q.team)', 'q.owner_id') }}
  {% if checks %}and q.check_id in ({% for c in checks %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}
order by q.first_seen, q.check_id, q.record_id
