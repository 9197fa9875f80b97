{#- The :row_limit largest open opportunities of the scope closing in the current fiscal quarter,
    largest first (the section shows no more: fetching the whole quarter, 144 k rows at 1 M, cost
    more than the rest of the section). -#}
{% import 'packs/_scope.sql' as s %}
select
    k.opportunity_id,
    k.opportunity_name,
    k.owner_name,
    u.team,
    k.stage_name,
    k.amount,
    k.close_date,
    k.forecast_category,
    k.days_in_current_stage,
    k.is_at_risk
from marts.fct_open_opportunity_risk as k
left join staging.stg_crm__user as u on u.id = k.owner_id
cross join marts.kpi_context as ctx
where k.close_fiscal_quarter = ctx.current_fiscal_quarter_label
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
order by coalesce(k.amount, 0) desc, k.opportunity_id
limit :row_limit
