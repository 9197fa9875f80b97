update ops.bulk_update_plan
set status = :status, status_updated_at = cast(:at as timestamp)
where plan_id = :plan_id
