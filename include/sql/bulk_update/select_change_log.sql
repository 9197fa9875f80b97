{#- The latest event per change of one plan: the change log as an auditor reads it. -#}
with events as (
    select
        c.*,
        row_number() over (partition by c.change_id order by c.logged_at desc, c.event_id desc) as rn
    from ops.bulk_update_change_log as c
    where c.plan_id = :plan_id
)

select
    event_id, change_id, plan_id, run_id, approver, object, record_id, field, old_value, new_value,
    status, attempt, batch_no, applied_at, error, logged_at
from events
where rn = 1
order by record_id, field
