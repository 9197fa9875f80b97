{#- The rows a plan's apply closed (an undo reopens their territory and version). -#}
select record_id, owner_id, territory, version
from ops.territory_assignment_history
where closed_by_plan_id = :plan_id
