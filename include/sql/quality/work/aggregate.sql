{#- Evaluated, failed and not-evaluated records of one outcome, for scope "all" and each scope type
    the check breaks results down by (an empty owner is "unassigned", any other empty scope "unknown"). -#}
with p as (
    select
        failed,
        false as skipped
        {%- for s in scopes %},
        coalesce(cast({{ s.column }} as varchar), '{{ s.fill }}') as s_{{ s.type }}
        {%- endfor %}
    from quality.work_population
    where outcome = {{ outcome }}
    union all
    select
        false as failed,
        true as skipped
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
    sum(case when skipped then 0 else 1 end) as evaluated,
    sum(case when failed then 1 else 0 end) as failed,
    sum(case when skipped then 1 else 0 end) as not_evaluated
from p
group by grouping sets ((){% for s in scopes %}, (s_{{ s.type }}){% endfor %})
