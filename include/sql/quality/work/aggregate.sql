{#- Evaluated, failed and not-evaluated records of one outcome, for scope "all" and each scope type
    the check breaks results down by (an empty owner is "unassigned", any other empty scope "unknown").
    An outcome's evaluated records are in work_population (a row per record) or
    work_population_count (counted by scope and failed): `records` weighs each row. -#}
with p as (
    select
        failed,
        false as skipped,
        1 as records
        {%- for s in scopes %},
        coalesce(cast({{ s.column }} as varchar), '{{ s.fill }}') as s_{{ s.type }}
        {%- endfor %}
    from quality.work_population
    where outcome = {{ outcome }}
    union all
    select
        failed,
        false as skipped,
        records
        {%- for s in scopes %},
        coalesce(cast({{ s.column }} as varchar), '{{ s.fill }}') as s_{{ s.type }}
        {%- endfor %}
    from quality.work_population_count
    where outcome = {{ outcome }}
    union all
    select
        false as failed,
        true as skipped,
        1 as records
        {%- for s in scopes %},
        coalesce(cast({{ s.column }} as varchar), '{{ s.fill }}') as s_{{ s.type }}
        {%- endfor %}
    from quality.work_not_evaluated
    where outcome = {{ outcome }}
)

select
    {%- for s in scopes %}
    grouping(s_{{ s.type }}) as g_{{ s.type }},
    s_{{ s.type }},
    {%- endfor %}
    sum(case when skipped then 0 else records end) as evaluated,
    sum(case when failed then records else 0 end) as failed,
    sum(case when skipped then records else 0 end) as not_evaluated
from p
group by grouping sets ((){% for s in scopes %}, (s_{{ s.type }}){% endfor %})
