{#- Routing SLA over the leads created in the :days days up to the as-of time (rolling window, so
    the headline does not go empty at the start of a quarter), scoped as routing_sla.sql. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'macros.sql' as m with context %}
{% import 'rules.sql' as rules %}
with speed as (
    {{ s.scoped_lead_speed() }}
)

select
    count(*) as lead_count,
    coalesce(sum(case when sp.sla_status = 'met' then 1 else 0 end), 0) as sla_met_count,
    coalesce(sum(case when sp.sla_status = 'breached' then 1 else 0 end), 0) as sla_breached_count,
    coalesce(sum(case when sp.sla_status = 'unassigned_breached' then 1 else 0 end), 0) as unassigned_breached_count,
    coalesce(sum(case when sp.sla_status = 'pending' then 1 else 0 end), 0) as sla_pending_count,
    {{ rules.routing_sla_compliance_rate(
        "sum(case when sp.sla_status = 'met' then 1 else 0 end)",
        "sum(case when sp.sla_status = 'breached' then 1 else 0 end)",
    ) }} as routing_sla_compliance_rate
from speed as sp
cross join marts.kpi_context as ctx
where cast(sp.created_at as date) > {{ m.add_days('ctx.as_of_date', '-' ~ days) }}
  and sp.created_at <= ctx.as_of_ts
