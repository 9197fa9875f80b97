{#- Open anomalies (quality.anomaly, issue 14) of the pack's series, in scope: company-wide series
    (scope all, segment, lead source, object) reach every slice; a rep's series reaches the rep's
    region, team and the rep. `series` = the pack's series names from monitoring.yaml (snake_case). -#}
{% import 'packs/_scope.sql' as s %}
with anomaly as (
    select * from quality.anomaly
    where status = 'open'
      and series in ({% for name in series %}'{{ name }}'{{ ", " if not loop.last }}{% endfor %})
),

users as (
    select * from staging.stg_crm__user
)

select
    a.anomaly_id, a.series, a.description, a.scope_type, a.scope_value, a.grain, a.unit,
    a.last_period_start, a.value, a.expected, a.lower_bound, a.upper_bound, a.score, a.direction,
    a.severity, a.first_seen_at, a.last_seen_at, a.likely_cause, u.name as owner_name
from anomaly as a
left join users as u on a.scope_type = 'owner' and u.id = a.scope_value
where a.scope_type <> 'owner' or {{ s.scope_filter('u.region', 'u.team', 'a.scope_value') }}
order by case when a.severity = 'critical' then 0 else 1 end asc, abs(a.score) desc, a.series asc, a.scope_value asc
