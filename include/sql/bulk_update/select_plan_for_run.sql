{#- A retried build task finds the plan its run already built instead of building another. -#}
select plan_id from ops.bulk_update_plan
where run_id = :run_id and dag_id = :dag_id and plan_type = :plan_type
order by created_at desc
limit 1
