-- depends_on: dim_segment_band, dim_country_region, dim_routing_rule, dim_routing_sla
-- grain: lead_id
-- description: The territory rule (territories.yaml) applied to each lead, written once: the
-- description: routing segment is the band of NumberOfEmployees, or the lead's Segment__c when the
-- description: employee count is empty. The routing region is the region listing its Country,
-- description: expected_team is the first routing rule matching both; sla_hours the segment's
-- description: assignment SLA. The quality routing checks include this select (quality/_lead_base.sql,
-- description: before the KPI build); int_lead_enriched, the speed-to-lead KPI and the packs read it.
with lead as (
    select * from staging.stg_crm__lead
),

band as (
    select * from marts.dim_segment_band
),

country_region as (
    select * from marts.dim_country_region
),

routing_rule as (
    select
        segment,
        region,
        team,
        row_number() over (partition by segment, region order by rule_order) as match_rank
    from marts.dim_routing_rule
),

sla as (
    select * from marts.dim_routing_sla
),

segmented as (
    select
        l.id as lead_id,
        coalesce(b.segment, l.segment) as routing_segment,
        cr.region as routing_region
    from lead as l
    left join band as b
        on l.number_of_employees >= b.min_employees
        and (b.max_employees_exclusive is null or l.number_of_employees < b.max_employees_exclusive)
    left join country_region as cr on cr.country = l.country
)

select
    s.lead_id,
    s.routing_segment,
    s.routing_region,
    r.team as expected_team,
    sla.assignment_hours as sla_hours
from segmented as s
left join routing_rule as r
    on r.segment = s.routing_segment and r.region = s.routing_region and r.match_rank = 1
left join sla on sla.segment = s.routing_segment
