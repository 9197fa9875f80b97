{#- The fields one batch's rows were quarantined for, most frequent first, each with one example
    reason (reasons name the value, so they differ row by row): the load guard's message. -#}
select field, count(distinct row_number) as n_rows, min(reason) as reason
from ops.quarantine
where batch_id = :b and severity = 'error'  -- a warning's row loaded
group by field
order by n_rows desc, field asc
limit 5
