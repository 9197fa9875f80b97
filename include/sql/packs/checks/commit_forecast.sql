{#- Warehouse total for the pack check: commit forecast of the current quarter from staging (closed
    won + open deals whose forecast category is Commit - or Closed: marts.agg_forecast_rollup counts
    open deals under their category name, so an open deal mislabelled Closed counts too), in scope. -#}
{% import 'packs/_scope.sql' as s %}
select
    coalesce(sum(case when coalesce(o.is_won, st.is_won, false) then coalesce(o.amount, 0)
                      when not coalesce(o.is_closed, st.is_closed, false) and o.forecast_category in ('Commit', 'Closed')
                      then coalesce(o.amount, 0) else 0 end), 0) as commit_forecast_amount
from staging.stg_crm__opportunity as o
left join staging.stg_crm__user as u on u.id = o.owner_id
left join marts.dim_stage as st on st.stage_name = o.stage_name
cross join marts.kpi_context as ctx
where o.close_date between ctx.current_fiscal_quarter_start and ctx.current_fiscal_quarter_end
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
