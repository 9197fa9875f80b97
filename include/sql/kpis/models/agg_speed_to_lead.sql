-- depends_on: fct_lead_speed_to_lead
-- grain: created_fiscal_quarter, segment
-- description: Speed to lead and routing SLA by the fiscal quarter of lead creation and segment:
-- description: mean / median hours created -> assigned and created -> first touch (over leads that
-- description: have the timestamp), and routing_sla_compliance_rate = assigned within SLA / assigned
-- description: leads (as the quality scorecard's routing_sla); unassigned leads past their SLA are
-- description: counted apart (unassigned_breached_count), not in the rate.
{% import 'rules.sql' as rules -%}
with speed as (
    select * from marts.fct_lead_speed_to_lead
),

aggregated as (
    select
        coalesce(created_fiscal_quarter, '(none)') as created_fiscal_quarter,
        segment,
        count(*) as lead_count,
        sum(case when assigned_at is not null then 1 else 0 end) as assigned_count,
        {{ rules.stable_avg('hours_to_assignment') }} as avg_hours_to_assignment,
        median(hours_to_assignment) as median_hours_to_assignment,
        {{ rules.stable_avg('hours_to_first_touch') }} as avg_hours_to_first_touch,
        median(hours_to_first_touch) as median_hours_to_first_touch,
        sum(case when sla_status = 'met' then 1 else 0 end) as sla_met_count,
        sum(case when sla_status = 'breached' then 1 else 0 end) as sla_breached_count,
        sum(case when sla_status = 'unassigned_breached' then 1 else 0 end) as unassigned_breached_count,
        sum(case when sla_status = 'pending' then 1 else 0 end) as sla_pending_count
    from speed
    group by coalesce(created_fiscal_quarter, '(none)'), segment
)

select
    a.*,
    {{ rules.routing_sla_compliance_rate('a.sla_met_count', 'a.sla_breached_count') }} as routing_sla_compliance_rate
from aggregated as a
