{#- The latest quality run's scorecard for the scope (quality.scorecard: scope all, region, team, owner). -#}
with latest_run as (
    select run_id, as_of from quality.scorecard order by as_of desc, run_id desc limit 1
)

select s.metric, s.as_of, s.numerator, s.denominator, s.value, s.target, s.comparator, s.met, s.reason
from quality.scorecard as s
inner join latest_run as r on r.run_id = s.run_id
where s.scope_type = :scope_type
  and (:scope_type = 'all' or s.scope_value = :scope_value)
order by s.metric
