insert into ops.bulk_update_plan (
    plan_id, plan_type, object, api_name, requester, reason, created_at, as_of, expires_at, scope,
    record_count, change_count, object_row_count, content_hash, approver_group, sensitive,
    undo_of_plan_id, dag_id, run_id, artifact_dir, status, status_updated_at
) values (
    :plan_id, :plan_type, :object, :api_name, :requester, :reason, cast(:created_at as timestamp),
    cast(:as_of as timestamp), cast(:expires_at as timestamp), :scope, :record_count, :change_count,
    :object_row_count, :content_hash, :approver_group, :sensitive, :undo_of_plan_id, :dag_id, :run_id,
    :artifact_dir, :status, cast(:created_at as timestamp)
)
