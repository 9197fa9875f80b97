{#- The offending records of one check in one run with their detail (the wrong value), for the
    gate message: each value, its count and sample record ids. -#}
select detail, record_id
from quality.run_exception
where run_id = :run_id and check_id = :check_id and object = :object
order by detail, record_id
limit {{ limit }}
