select min(valid_from) as history_start from ops.territory_assignment_history
