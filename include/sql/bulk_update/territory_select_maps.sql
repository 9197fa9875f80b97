select plan_id, version, effective_date, map_hash, status, built_at, applied_at, undo_plan_id, undone_at
from ops.territory_map_version
order by built_at
