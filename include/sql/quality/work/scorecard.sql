{#- One scorecard metric: the records of its member outcomes (each record once, with the scope of
    the first member that evaluated it; failed when it failed any member), by scope. A single
    member's population is already one row per record, or counted by scope
    (work_population_count: `records` weighs each row); several members' and a `created_from`
    window's are in work_population, a row per record (the run writes them so). -#}
with
{%- if members | length == 1 %}
ranked as (
    select
        owner_id, team, region, created_at,
        case when failed then 1 else 0 end as any_failed,
        1 as rn,
        1 as records
    from quality.work_population
    where outcome = {{ members[0] }}
    {%- if not created_from %}
    union all
    select
        owner_id, team, region, cast(null as timestamp) as created_at,
        case when failed then 1 else 0 end as any_failed,
        1 as rn,
        records
    from quality.work_population_count
    where outcome = {{ members[0] }}
    {%- endif %}
),
{%- else %}
members as (
    select * from (values
    {%- for m in members %}
        ({{ m }}, {{ loop.index0 }}){{ "," if not loop.last }}
    {%- endfor %}
    ) as t (outcome, member_order)  -- noqa: AL05
),

ranked as (
    select
        p.record_id,
        p.owner_id,
        p.team,
        p.region,
        p.created_at,
        max(case when p.failed then 1 else 0 end) over (partition by p.record_id) as any_failed,
        row_number() over (partition by p.record_id order by m.member_order) as rn,
        1 as records
    from quality.work_population as p
    inner join members as m on m.outcome = p.outcome
),
{%- endif %}

p as (
    select
        any_failed = 1 as failed,
        records
        {%- for s in scopes %},
        coalesce(cast({{ s.column }} as varchar), '{{ s.fill }}') as s_{{ s.type }}
        {%- endfor %}
    from ranked
    where rn = 1
    {%- if created_from %}
      and created_at >= cast(:created_from as timestamp)
    {%- endif %}
)

select
    {%- for s in scopes %}
    grouping(s_{{ s.type }}) as g_{{ s.type }},
    s_{{ s.type }},
    {%- endfor %}
    sum(records) as evaluated,
    sum(case when failed then records else 0 end) as failed
from p
group by grouping sets ((){% for s in scopes %}, (s_{{ s.type }}){% endfor %})
