select * from ops.bulk_update_plan where plan_id = :plan_id
