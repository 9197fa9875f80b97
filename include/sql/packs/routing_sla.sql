{#- Routing SLA by created fiscal quarter and segment, the last :quarters quarters up to the current
    one (as marts.agg_speed_to_lead, scoped: region = the lead's region, team = its owner's team,
    owner = its owner). -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules %}
with speed as (
    {{ s.scoped_lead_speed() }}
),

ctx as (
    select * from marts.kpi_context
),

segments as (
    select segment, assignment_hours from marts.dim_routing_sla
),

quarters as (
    {{ rules.last_quarters('ctx') }}
),

aggregated as (
    select
        sp.created_fiscal_quarter,
        sp.segment,
        count(*) as lead_count,
        sum(case when sp.assigned_at is not null then 1 else 0 end) as assigned_count,
        {{ rules.stable_avg('sp.hours_to_assignment') }} as avg_hours_to_assignment,
        sum(case when sp.sla_status = 'met' then 1 else 0 end) as sla_met_count,
        sum(case when sp.sla_status = 'breached' then 1 else 0 end) as sla_breached_count,
        sum(case when sp.sla_status = 'unassigned_breached' then 1 else 0 end) as unassigned_breached_count,
        sum(case when sp.sla_status = 'pending' then 1 else 0 end) as sla_pending_count
    from speed as sp
    group by sp.created_fiscal_quarter, sp.segment
)

select
    q.fiscal_quarter_label as created_fiscal_quarter,
    sg.segment,
    sg.assignment_hours as sla_hours,
    coalesce(a.lead_count, 0) as lead_count,
    coalesce(a.assigned_count, 0) as assigned_count,
    a.avg_hours_to_assignment,
    coalesce(a.sla_met_count, 0) as sla_met_count,
    coalesce(a.sla_breached_count, 0) as sla_breached_count,
    coalesce(a.unassigned_breached_count, 0) as unassigned_breached_count,
    coalesce(a.sla_pending_count, 0) as sla_pending_count,
    {{ rules.routing_sla_compliance_rate('a.sla_met_count', 'a.sla_breached_count') }} as routing_sla_compliance_rate
from quarters as q
cross join segments as sg
left join aggregated as a on a.created_fiscal_quarter = q.fiscal_quarter_label and a.segment = sg.segment
order by q.fiscal_quarter_index desc, sg.assignment_hours desc
