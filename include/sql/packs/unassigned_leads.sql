{#- Unconverted leads without an owner, in scope: region = the lead's region, team = the team the
    territories.yaml routing rules name for the lead (marts.int_lead_routed, the one routing rule);
    owners have none. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'macros.sql' as m with context %}
with lead as (
    select * from staging.stg_crm__lead
),

routed_lead as (
    select * from marts.int_lead_routed
),

routed as (
    select l.*, r.routing_segment, r.expected_team as routed_team
    from lead as l
    left join routed_lead as r on r.lead_id = l.id
    where l.owner_id is null and not coalesce(l.is_converted, false)
),

ctx as (
    select * from marts.kpi_context
)

select
    r.id as lead_id,
    r.company,
    r.email,
    r.phone,
    r.country,
    r.region,
    coalesce(r.routing_segment, r.segment) as segment,
    r.routed_team,
    r.lead_source,
    r.status,
    r.created_at,
    {{ m.seconds_between('r.created_at', 'ctx.as_of_ts') }} / 3600.0 as hours_unassigned
from routed as r
cross join ctx
where {{ s.scope_filter('r.region', 'r.routed_team', "'(no owner)'") }}
order by r.created_at, r.id
