{#- Unconverted leads without an owner, in scope: region = the lead's region, team = the team the
    territories.yaml routing rules name for the lead's segment and region; owners have none. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'macros.sql' as m with context %}
with lead as (
    select * from staging.stg_crm__lead
),

rules as (
    select * from (
        values
{%- for r in routing_rules %}
            ('{{ r.segment }}', '{{ r.region }}', '{{ r.team }}', {{ loop.index }}){% if not loop.last %},{% endif %}
{%- endfor %}
    ) as t (segment, region, team, rule_order)  -- noqa: AL05
),

routed as (
    select l.*, (select min_by(r.team, r.rule_order) from rules as r
                 where r.segment = l.segment and r.region = l.region) as routed_team
    from lead as l
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
    r.segment,
    r.routed_team,
    r.lead_source,
    r.status,
    r.created_at,
    {{ m.seconds_between('r.created_at', 'ctx.as_of_ts') }} / 3600.0 as hours_unassigned
from routed as r
cross join ctx
where {{ s.scope_filter('r.region', 'r.routed_team', "'(no owner)'") }}
order by r.created_at, r.id
