insert into ops.territory_assignment_history (
    record_id, owner_id, territory, valid_from, valid_to, version, plan_id, closed_by_plan_id
) values (
    :record_id, :owner_id, :territory, cast(:at as timestamp), cast(null as timestamp), :version,
    :plan_id, cast(null as varchar)
)
