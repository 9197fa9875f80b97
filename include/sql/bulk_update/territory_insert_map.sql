insert into ops.territory_map_version (
    plan_id, version, effective_date, map_json, map_hash, status, built_at
) values (
    :plan_id, :version, cast(:effective_date as date), :map_json, :map_hash, 'proposed',
    cast(:built_at as timestamp)
)
