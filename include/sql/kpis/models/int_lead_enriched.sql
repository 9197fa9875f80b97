-- depends_on: int_lead_routed, dim_fiscal_calendar, kpi_policy_list
-- grain: lead_id
-- description: One row per lead with its routing segment and SLA hours (int_lead_routed), the
-- description: fiscal period of its created date, and the highest lifecycle stage it
-- description: reached (kpis.yaml lead_funnel.stages rank; every lead reached rank 1; a converted
-- description: lead reached the last stage, Opportunity).
with lead as (
    select * from staging.stg_crm__lead
),

routed as (
    select * from marts.int_lead_routed
),

calendar as (
    select * from marts.dim_fiscal_calendar
),

funnel_stage as (
    select value as stage_name, position as stage_rank from marts.kpi_policy_list where list_name = 'funnel_stage'
),

changes as (
    select * from staging.stg_map__lifecycle_stage_change
),

reached as (
    select c.lead_id, max(f.stage_rank) as highest_rank
    from changes as c
    inner join funnel_stage as f on f.stage_name = c.to_stage
    group by c.lead_id
),

segmented as (
    select
        l.*,
        r.routing_segment,
        r.sla_hours
    from lead as l
    left join routed as r on r.lead_id = l.id
)

select
    l.id as lead_id,
    l.owner_id,
    l.lead_source,
    coalesce(l.routing_segment, '(none)') as segment,
    l.region,
    l.status,
    l.created_at,
    l.assigned_at,
    l.first_touch_at,
    l.is_converted,
    c.fiscal_quarter_label as created_fiscal_quarter,
    c.fiscal_month_label as created_fiscal_month,
    l.sla_hours,
    case
        when coalesce(l.is_converted, false) or l.converted_opportunity_id is not null
            then (select max(stage_rank) from funnel_stage)
        else greatest(coalesce(r.highest_rank, 1), 1)
    end as highest_funnel_rank
from segmented as l
left join calendar as c on c.date_day = cast(l.created_at as date)
left join reached as r on r.lead_id = l.id
