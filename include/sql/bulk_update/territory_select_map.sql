select * from ops.territory_map_version where plan_id = :plan_id
