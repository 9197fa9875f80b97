{#- Why an outcome's records were not evaluated: each reason with its count (check_result.reason). -#}
select reason, count(*) as records
from quality.work_not_evaluated
where outcome = {{ outcome }}
group by reason
order by count(*) desc, reason
