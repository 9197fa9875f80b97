{#- Plan: open, unconverted leads that are unassigned (no owner) or, with include_misrouted, owned by
    someone who is not an active member of the team the territory rules name -> an active member of
    that team. The team is the lead's expected_team in int_lead_routed (bulk_update/_lead_territory.sql:
    segment from NumberOfEmployees, else Segment__c; region from Country; first matching routing
    rule of territories.yaml) - the same routing the quality checks and the speed-to-lead KPI use.
    The member is picked round-robin: the n-th such lead of a team (by lead id) goes to member
    n mod team size (members ordered by user id) - deterministic, so a rebuilt plan proposes the
    same owners. Leads the rules cannot place (unknown country, no segment, team without active
    members) are not in the plan; the quality checks report them. Country, NumberOfEmployees and
    Segment__c are guards: a lead whose routing inputs changed is skipped. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with users as (
    select * from staging.stg_crm__user
),

{% include 'bulk_update/_lead_territory.sql' %}

lead_team as (
    select
        l.*,
        l.routing_region as region,
        l.expected_team as team
    from open_lead as l
    where l.expected_team is not null
),

team_member as (
    select
        id as user_id,
        team,
        row_number() over (partition by team order by id) - 1 as member_index,
        count(*) over (partition by team) as team_size
    from users
    where coalesce(is_active, false) and team is not null
),

candidate as (
    select
        t.*,
        row_number() over (partition by t.team order by t.id) - 1 as team_position
    from lead_team as t
    left join users as cur on cur.id = t.owner_id
    where exists (select 1 from team_member as m where m.team = t.team)
        and (
            t.owner_id is null
{%- if include_misrouted %}
            or cur.id is null
            or not coalesce(cur.is_active, false)
            or coalesce(cur.team, '') <> t.team
{%- endif %}
        )
),

assignment as (
    select
        c.*,
        m.user_id as new_owner_id
    from candidate as c
    inner join team_member as m
        on m.team = c.team and m.member_index = mod(c.team_position, m.team_size)
)

{{ bu.plan_rows(
    'assignment',
    [('OwnerId', 'owner_id', 'new_owner_id')],
    [('Country', 'country'), ('NumberOfEmployees', 'number_of_employees'), ('Segment__c', 'segment')],
    'company', 'new_owner_id',
) }}
