insert into ops.bulk_update_plan_row (
    plan_id, change_id, seq, record_id, field, role, before_value, after_value, record_name, owner_id,
    region, undo_of_change_id, object
) values (
    :plan_id, :change_id, :seq, :record_id, :field, :role, :before_value, :after_value, :record_name,
    :owner_id, :region, :undo_of_change_id, :object
)
