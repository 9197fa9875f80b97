select * from ops.bulk_update_plan_row where plan_id = :plan_id order by seq
