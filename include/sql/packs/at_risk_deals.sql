{#- Every at-risk open opportunity of the scope with the rules that fired, largest first. -#}
{% import 'packs/_scope.sql' as s %}
select
    k.opportunity_id,
    k.opportunity_name,
    k.owner_name,
    u.team,
    u.region,
    k.stage_name,
    k.amount,
    k.close_date,
    k.forecast_category,
    k.last_activity_date,
    k.days_in_current_stage,
    k.push_count,
    k.is_past_close_date,
    k.is_pushed_repeatedly,
    k.is_inactive,
    k.is_large_early_late,
    k.at_risk_rule_count
from marts.fct_open_opportunity_risk as k
left join staging.stg_crm__user as u on u.id = k.owner_id
where k.is_at_risk
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
order by coalesce(k.amount, 0) desc, k.opportunity_id
