{#- Why an open lead_unassigned / lead_misrouted exception is not in a reassign_leads plan (same
    territory parameters as plan_reassign_leads.sql). Null reason: the plan's rules would include it.
    "not placeable" = the territory rules name no team with active members for the lead. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with open_exception as (
    select * from {{ bu.open_exceptions(n_checks) }} as e
),

lead as (
    select * from staging.stg_crm__lead
),

users as (
    select * from staging.stg_crm__user
),

{% include 'bulk_update/_lead_territory.sql' %}

active_team as (
    select distinct team from users where coalesce(is_active, false) and team is not null
)

select
    e.record_id,
    e.check_id,
    case
        when l.id is null then 'not in staging (deleted since the quality run)'
        when coalesce(l.is_converted, false) then 'converted'
        when not exists (select 1 from open_status as os where os.status = l.status)
            then 'status ' || coalesce(l.status, '(null)') || ' is not an open status'
        when lr.routing_segment is null then 'not placeable: no employee count and no Segment__c (segment unknown)'
        when lr.routing_region is null then 'not placeable: country not in territories.yaml'
        when lr.expected_team is null then 'not placeable: no routing rule for the segment and region'
        when act.team is null then 'not placeable: the routed team has no active members'
{%- if not include_misrouted %}
        when l.owner_id is not null then 'misrouted leads excluded (include_misrouted: false)'
{%- endif %}
        when cur.id is not null and coalesce(cur.is_active, false) and cur.team = lr.expected_team
            then 'owner already in the routed team'
    end as reason
from open_exception as e
left join lead as l on l.id = e.record_id
left join lead_routed as lr on lr.lead_id = l.id
left join active_team as act on act.team = lr.expected_team
left join users as cur on cur.id = l.owner_id
