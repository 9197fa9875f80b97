{#- CTEs shared by the lead checks: the territory rule applied to each lead is the KPI model
    int_lead_routed (included here: the quality run comes before the KPI build and has written the
    reference tables it joins): segment from NumberOfEmployees, else the lead's Segment__c; region
    from Country; expected team from the first matching routing rule; the segment's SLA hours.
    A lead with no segment or an unmapped country cannot be routed. -#}
users as (
    select id, manager_id, team, region, is_active from {{ tables.user }}
),
lead_routed as (
    select
        l.*,
        r.routing_segment as lead_segment,
        r.routing_region as lead_region,
        r.expected_team,
        r.sla_hours
    from {{ tables.lead }} as l
    left join (
{% include 'kpis/models/int_lead_routed.sql' %}
    ) as r on r.lead_id = l.id
),
lead as (
    select
        l.id as record_id,
        l.owner_id,
        u.manager_id,
        u.team as owner_team,
        u.is_active as owner_is_active,
        l.expected_team,
        coalesce(l.lead_region, 'unknown') as region,
        coalesce(l.lead_segment, 'unknown') as segment,
        l.sla_hours,
        l.email,
        l.is_converted,
        l.assigned_at,
        l.created_at,
        u.id as owner_user_id
    from lead_routed l
    left join users u on u.id = l.owner_id
)
