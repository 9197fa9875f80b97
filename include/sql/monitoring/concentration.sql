-- Likely cause (routing rule gap): the period's unassigned / SLA-breaching leads by segment x region.
select
    s.segment, l.region, count(*) as leads
from marts.fct_lead_speed_to_lead as s
inner join marts.int_lead_enriched as l on l.lead_id = s.lead_id
where s.sla_status in ({% if series == 'unassigned_leads' %}'unassigned_breached'{% else %}'breached', 'unassigned_breached'{% endif %})
  and cast(s.created_at as date) >= :period_start and cast(s.created_at as date) < :period_end
group by s.segment, l.region
order by leads desc, s.segment asc, l.region asc
