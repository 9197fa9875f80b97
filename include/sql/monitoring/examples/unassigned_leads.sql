-- Evidence: the leads behind an unassigned-leads anomaly (created in the period, still unassigned
-- when their routing SLA ran out), optionally one segment.
select
    s.lead_id, s.segment, l.region, s.lead_source, s.created_at, s.sla_hours, s.sla_status
from marts.fct_lead_speed_to_lead as s
inner join marts.int_lead_enriched as l on l.lead_id = s.lead_id
where s.sla_status = 'unassigned_breached'
  and cast(s.created_at as date) >= :period_start and cast(s.created_at as date) < :period_end
  and (:scope_type <> 'segment' or s.segment = :scope_value)
order by s.created_at, s.lead_id
