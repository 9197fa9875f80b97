{#- Stage aging of the scope's open opportunities (as marts.agg_stage_aging, scoped). -#}
{% import 'packs/_scope.sql' as s %}
select
    coalesce(k.stage_name, '(none)') as stage_name,
    max(k.stage_order) as stage_order,
    count(*) as open_count,
    sum(coalesce(k.amount, 0)) as open_amount,
    avg(k.days_in_current_stage) as avg_days_in_current_stage,
    max(k.days_in_current_stage) as max_days_in_current_stage
from marts.fct_open_opportunity_risk as k
left join staging.stg_crm__user as u on u.id = k.owner_id
where {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
group by coalesce(k.stage_name, '(none)')
order by max(k.stage_order) nulls last, 1
