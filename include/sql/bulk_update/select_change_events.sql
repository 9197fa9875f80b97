select * from ops.bulk_update_change_log where plan_id = :plan_id order by logged_at, event_id
