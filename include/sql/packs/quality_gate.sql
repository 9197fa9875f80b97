{#- The latest quality run for the data's as-of time and how many blocker checks failed in it
    (scope all), counted from quality.check_result rather than trusted from the run's status. -#}
with run as (
    select run_id, as_of, status, gate_passed, gate_message, finished_at
    from quality.run
    where as_of = :as_of
    order by finished_at desc nulls last, started_at desc nulls last, run_id desc
    limit 1
)

select
    r.run_id,
    r.as_of,
    r.status,
    r.gate_passed,
    r.gate_message,
    r.finished_at,
    (select count(*) from quality.check_result as c
     where c.run_id = r.run_id and c.severity = 'blocker' and c.scope_type = 'all' and not c.passed) as blockers_failed,
    (select count(*) from quality.check_result as c where c.run_id = r.run_id) as results
from run as r
