{#- A few offending record ids of one check in one run (sorted for stable messages). -#}
select record_id
from quality.run_exception
where run_id = :run_id and check_id = :check_id and object = :object
group by record_id
order by record_id
limit {{ limit }}
