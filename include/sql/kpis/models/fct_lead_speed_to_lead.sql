-- depends_on: int_lead_enriched, kpi_context
-- grain: lead_id
-- description: Speed to lead per lead: hours from created to assignment (Assigned_At__c) and to
-- description: first touch (First_Touch_At__c), and the routing SLA status against territories.yaml
-- description: sla.assignment_hours for the lead's segment: met (assigned within the SLA), breached
-- description: (assigned late), unassigned_breached (not assigned and older than the SLA at the
-- description: as-of time), pending (not assigned, still within the SLA), no_sla (segment without SLA).
with lead as (
    select * from marts.int_lead_enriched
),

ctx as (
    select * from marts.kpi_context
),

timed as (
    select
        l.lead_id,
        l.owner_id,
        l.lead_source,
        l.segment,
        l.created_at,
        l.assigned_at,
        l.first_touch_at,
        l.created_fiscal_quarter,
        l.sla_hours,
        {{ m.seconds_between('l.created_at', 'l.assigned_at') }} / 3600.0 as hours_to_assignment,
        {{ m.seconds_between('l.created_at', 'l.first_touch_at') }} / 3600.0 as hours_to_first_touch,
        {{ m.seconds_between('l.created_at', 'ctx.as_of_ts') }} / 3600.0 as hours_open_at_as_of
    from lead as l
    cross join ctx
)

select
    t.lead_id, t.owner_id, t.lead_source, t.segment, t.created_at, t.assigned_at, t.first_touch_at,
    t.created_fiscal_quarter, t.sla_hours, t.hours_to_assignment, t.hours_to_first_touch,
    case
        when t.sla_hours is null then 'no_sla'
        when t.assigned_at is not null and t.hours_to_assignment <= t.sla_hours then 'met'
        when t.assigned_at is not null then 'breached'
        when t.hours_open_at_as_of > t.sla_hours then 'unassigned_breached'
        else 'pending'
    end as sla_status
from timed as t
