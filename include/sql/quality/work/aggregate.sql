{#- Evaluated and failed records of one outcome, for scope "all" and each scope type the check
    breaks results down by (an empty owner is "unassigned", any other empty scope "unknown"). -#}
with p as (
    select
        failed
        {%- for s in scopes %},
        coalesce(cast({{ s.column }} as varchar), '{{ s.fill }}') as s_{{ s.type }}
        {%- endfor %}
    from quality.work_population
    where outcome = {{ outcome }}
)

select
    {%- for s in scopes %}
    grouping(s_{{ s.type }}) as g_{{ s.type }},
    s_{{ s.type }},
    {%- endfor %}
    count(*) as evaluated,
    sum(case when failed then 1 else 0 end) as failed
from p
group by grouping sets ((){% for s in scopes %}, (s_{{ s.type }}){% endfor %})
