-- depends_on: dim_segment_band, dim_country_region, dim_routing_rule, dim_routing_sla
-- grain: lead_id
-- description: The territory rule (territories.yaml) applied to each lead, written once: the
-- description: routing segment is the band of NumberOfEmployees, or the lead's Segment__c when the
-- description: employee count is empty. The routing region is the region listing its Country,
-- description: expected_team is the first routing rule matching both; sla_hours the segment's
-- description: assignment SLA. The quality routing checks include this select (quality/_lead_base.sql,
-- description: before the KPI build); int_lead_enriched, the speed-to-lead KPI and the packs read it.
{% import 'rules.sql' as rules -%}
with lead as (
    select * from staging.stg_crm__lead
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
        {{ rules.segment('b', 'l.segment') }} as routing_segment,
        cr.region as routing_region
    from lead as l
    {{ rules.segment_band_join('l.number_of_employees', 'b') }}
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
