{#- Routing SLA compliance by the week leads were created (Monday start), the last :weeks weeks up
    to the as-of date, scoped as routing_sla.sql. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'macros.sql' as m with context %}
{% import 'rules.sql' as rules %}
with speed as (
    {{ s.scoped_lead_speed() }}
),

ctx as (
    select * from marts.kpi_context
)

select
    cast(date_trunc('week', sp.created_at) as date) as week_start,
    count(*) as lead_count,
    sum(case when sp.sla_status = 'met' then 1 else 0 end) as sla_met_count,
    sum(case when sp.sla_status = 'breached' then 1 else 0 end) as sla_breached_count,
    {{ rules.routing_sla_compliance_rate(
        "sum(case when sp.sla_status = 'met' then 1 else 0 end)",
        "sum(case when sp.sla_status = 'breached' then 1 else 0 end)",
    ) }} as routing_sla_compliance_rate
from speed as sp
cross join ctx
where cast(sp.created_at as date) > {{ m.add_days('ctx.as_of_date', '-7 * ' ~ weeks) }}
  and cast(sp.created_at as date) <= ctx.as_of_date
group by cast(date_trunc('week', sp.created_at) as date)
order by cast(date_trunc('week', sp.created_at) as date)
