{#- Every quality run's scorecard value for the scope (one row per run and metric), oldest first;
    the latest run per as-of time only (a re-run of the same data replaces the earlier one). -#}
with runs as (
    select run_id, as_of, row_number() over (partition by as_of order by run_id desc) as rn
    from (select distinct run_id, as_of from quality.scorecard) as x
)

select s.as_of, s.metric, s.value, s.target, s.met
from quality.scorecard as s
inner join runs as r on r.run_id = s.run_id and r.rn = 1
where s.scope_type = :scope_type
  and (:scope_type = 'all' or s.scope_value = :scope_value)
order by s.as_of, s.metric
