select * from ops.bulk_update_approval where plan_id = :plan_id order by recorded_at, approval_id
