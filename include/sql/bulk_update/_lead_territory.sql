{#- Territory routing inputs shared by plan_reassign_leads.sql, quality_gaps_reassign_leads.sql and
    plan_territory_change.sql (one definition, so the plans and the explanation of unfixed
    exceptions never disagree): the open lead statuses (bind parameters), each lead's routing and
    the open leads. The routing is the one definition the quality routing checks and the
    speed-to-lead KPI use, the model kpis/models/int_lead_routed.sql (segment = band of
    NumberOfEmployees, else the lead's Segment__c; region from Country; expected team = first
    routing rule), over the territory tables salesops.reference.ensure_territories writes before the
    plan runs. An open lead (what a plan may move): its Status is one of the open statuses and it is
    not converted; with its routing, the fields a lead plan changes or guards. Include after `with`
    (and define `users` where the includer needs it). -#}
{% import 'bulk_update/_macros.sql' as bu %}
{{ bu.open_status_cte(n_statuses) }},

lead_routed as (
{% include 'kpis/models/int_lead_routed.sql' %}
),

open_lead as (
    select
        l.id,
        l.first_name,
        l.last_name,
        l.company,
        l.owner_id,
        l.country,
        cast(l.number_of_employees as varchar) as number_of_employees,
        l.segment,
        l.status,
        r.routing_segment,
        r.routing_region,
        r.expected_team
    from staging.stg_crm__lead as l
    inner join lead_routed as r on r.lead_id = l.id
    where {{ bu.is_open_lead('l') }}
),
