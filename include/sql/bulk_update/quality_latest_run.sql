{#- The latest finished quality run (the one the exception queue reflects). -#}
select run_id, as_of
from quality.run
where status <> 'running'
order by started_at desc, run_id desc
limit 1
