{#- Checks that failed at scope "all" in one run, blockers first. -#}
select check_id, object, severity, evaluated, failed, rate, target, value, value_label
from quality.check_result
where run_id = :run_id
  and scope_type = 'all'
  and not passed
order by case when severity = 'blocker' then 0 else 1 end, check_id, object
