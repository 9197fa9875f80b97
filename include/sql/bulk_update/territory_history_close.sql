update ops.territory_assignment_history
set valid_to = cast(:at as timestamp), closed_by_plan_id = :plan_id
where record_id = :record_id and valid_to is null
