{#- A few quarantined rows of one batch (record id, row, field, value, reason) for the load guard. -#}
select record_id, row_number, field, value, reason
from ops.quarantine
where batch_id = :b and severity = 'error'  -- a warning's row loaded
order by row_number, field
limit 5
