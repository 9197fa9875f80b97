{#- The reasons one batch's rows were quarantined, most frequent first (the load guard's message). -#}
select field, reason, count(distinct row_number) as n_rows
from ops.quarantine
where batch_id = :b
group by field, reason
order by n_rows desc, field asc, reason asc
limit 5
