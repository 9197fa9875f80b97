insert into ops.bulk_update_change_log (
    event_id, change_id, plan_id, run_id, approver, object, record_id, field, old_value, new_value,
    status, attempt, batch_no, applied_at, error, logged_at
) values (
    :event_id, :change_id, :plan_id, :run_id, :approver, :object, :record_id, :field, :old_value,
    :new_value, :status, :attempt, :batch_no, cast(:applied_at as timestamp), :error,
    cast(:logged_at as timestamp)
)
