{#- Warehouse total for the pack check: the window pipeline at the start and end snapshot of one
    comparison (:comparison), summed straight from marts.fct_pipeline_snapshot, in scope. -#}
{% import 'packs/_scope.sql' as s %}
select
    coalesce(sum(case when sn.snapshot_date = c.start_date then coalesce(sn.amount, 0) end), 0) as starting_amount,
    coalesce(sum(case when sn.snapshot_date = c.end_date then coalesce(sn.amount, 0) end), 0) as ending_amount
from marts.kpi_movement_comparison as c
inner join marts.fct_pipeline_snapshot as sn
    on sn.snapshot_date in (c.start_date, c.end_date)
    and sn.close_date between c.window_start and c.window_end
left join staging.stg_crm__user as u on u.id = sn.owner_id
where c.comparison_label = :comparison
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
