{#- Scorecard rows of every quality run (trend) for the viewer's scope. Switches: scope_type
    ('all' for company-wide viewers: every scope). -#}
select
    s.run_id,
    s.as_of,
    s.metric,
    s.scope_type,
    s.scope_value,
    s.value,
    s.target,
    s.comparator,
    s.met
from quality.scorecard as s
where
    true
    {%- if scope_type != 'all' %}
    and s.scope_type = :scope_type and s.scope_value = :scope_value
    {%- else %}
    and s.scope_type = 'all'
    {%- endif %}
order by s.metric, s.as_of
