{#- Warehouse total for the pack check: leads created in the :days days up to the as-of time assigned
    within / after their segment's SLA (territories.yaml via marts.dim_routing_sla), from staging, in scope. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'macros.sql' as m with context %}
with lead as (
    select l.*, r.assignment_hours,
           {{ m.seconds_between('l.created_at', 'l.assigned_at') }} / 3600.0 as hours_to_assignment
    from staging.stg_crm__lead as l
    inner join marts.dim_routing_sla as r on r.segment = l.segment
    left join staging.stg_crm__user as u on u.id = l.owner_id
    cross join marts.kpi_context as ctx
    where cast(l.created_at as date) > {{ m.add_days('ctx.as_of_date', '-' ~ days) }}
      and l.created_at <= ctx.as_of_ts
      and {{ s.scope_filter('l.region', 'u.team', 'l.owner_id') }}
)

select
    coalesce(sum(case when assigned_at is not null and hours_to_assignment <= assignment_hours then 1 else 0 end), 0) as sla_met_count,
    coalesce(sum(case when assigned_at is not null and hours_to_assignment > assignment_hours then 1 else 0 end), 0) as sla_breached_count
from lead
