{#- CTEs shared by the lead checks: the territory policy (territories.yaml) applied to each lead.
    segment from NumberOfEmployees, region from Country, expected team from the first matching
    routing rule. Segment__c / Region__c on the lead are what the CRM was told, not the rule, so
    they are not used: a lead without employees or with an unmapped country cannot be routed. -#}
users as (
    select id, manager_id, team, region, is_active from {{ tables.user }}
),
lead_routed as (
    select
        l.*,
        case
        {%- for s in segments %}
            when l.number_of_employees >= {{ s.min }} then {{ s.name }}
        {%- endfor %}
        end as lead_segment,
        case
        {%- for r in regions %}
            when l.country in ({{ r.countries }}) then {{ r.name }}
        {%- endfor %}
        end as lead_region
    from {{ tables.lead }} l
),
lead as (
    select
        l.id as record_id,
        l.owner_id,
        u.manager_id,
        u.team as owner_team,
        u.is_active as owner_is_active,
        case
        {%- for r in routing_rules %}
            when l.lead_segment = {{ r.segment }} and l.lead_region = {{ r.region }} then {{ r.team }}
        {%- endfor %}
        end as expected_team,
        coalesce(l.lead_region, 'unknown') as region,
        coalesce(l.lead_segment, 'unknown') as segment,
        case
        {%- for s in sla_hours %}
            when l.lead_segment = {{ s.segment }} then {{ s.hours }}
        {%- endfor %}
        end as sla_hours,
        l.email,
        l.is_converted,
        l.assigned_at,
        l.created_at,
        u.id as owner_user_id
    from lead_routed l
    left join users u on u.id = l.owner_id
)
