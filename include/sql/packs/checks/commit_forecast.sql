{#- Warehouse total for the pack check: commit forecast of the current quarter from staging (closed
    won + open deals whose forecast category is Commit; an open deal whose category field says
    Closed is not booked and is not in the commit figure: marts.agg_forecast_rollup leaves it
    uncategorized), in scope.  Amounts in the corporate currency
    (int_opportunity_currency); deals whose currency has no rate are left out, as in the marts. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules -%}
select
    coalesce(sum(case when {{ rules.is_won('o.is_won', 'st.is_won') }} then coalesce(cur.amount_corporate, 0)
                      when not {{ rules.is_closed('o.is_closed', 'st.is_closed') }} and o.forecast_category = 'Commit'
                      then coalesce(cur.amount_corporate, 0) else 0 end), 0) as commit_forecast_amount
from staging.stg_crm__opportunity as o
inner join marts.int_opportunity_currency as cur on cur.opportunity_id = o.id and not cur.is_excluded
left join staging.stg_crm__user as u on u.id = o.owner_id
left join marts.dim_stage as st on st.stage_name = o.stage_name
cross join marts.kpi_context as ctx
where o.close_date between ctx.current_fiscal_quarter_start and ctx.current_fiscal_quarter_end
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
