-- Evidence: the leads that breached the routing SLA in the period.
select
    s.lead_id, s.segment, l.region, s.lead_source, s.created_at, s.assigned_at, s.sla_hours,
    s.hours_to_assignment, s.sla_status
from marts.fct_lead_speed_to_lead as s
inner join marts.int_lead_enriched as l on l.lead_id = s.lead_id
where s.sla_status in ('breached', 'unassigned_breached')
  and cast(s.created_at as date) >= :period_start and cast(s.created_at as date) < :period_end
order by s.created_at, s.lead_id
