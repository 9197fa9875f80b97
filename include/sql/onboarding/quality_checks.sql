{#- Every check of one quality run at scope "all": status, counts, target and the reason a check
    was not evaluated. -#}
select
    check_id, object, severity, engine, status, evaluated, failed, rate, target, passed, value, value_label,
    reason
from quality.check_result
where run_id = :run_id and scope_type = 'all'
order by check_id, object
