update ops.territory_map_version
set status = :status,
    applied_at = coalesce(cast(:applied_at as timestamp), applied_at),
    undo_plan_id = coalesce(:undo_plan_id, undo_plan_id),
    undone_at = coalesce(cast(:undone_at as timestamp), undone_at)
where plan_id = :plan_id
