{#- The history rows a plan's apply opened (a re-run of the apply adds none twice). -#}
select record_id from ops.territory_assignment_history where plan_id = :plan_id
