{#- Helpers for plan SQL. Values always arrive as bind parameters; Jinja only lays out the
    placeholders (salesops.bulk_update.plan.values_params builds the matching parameter dict). -#}
{%- macro values_table(name, cols, n) -%}
(select * from (values
{%- for i in range(n) %}
    ({% for c in cols %}:{{ name }}_{{ i }}_{{ c }}{{ ", " if not loop.last }}{% endfor %}){{ "," if not loop.last }}
{%- endfor %}
) as {{ name }}_v ({{ cols | join(", ") }}))
{%- endmacro -%}

{#- values_table, or an empty relation with the same (varchar) columns when there are no rows
    (a VALUES list cannot be empty). -#}
{%- macro values_table_or_empty(name, cols, n) -%}
{%- if n > 0 -%}
{{ values_table(name, cols, n) }}
{%- else -%}
(select {% for c in cols %}cast(null as varchar) as {{ c }}{{ ", " if not loop.last }}{% endfor %} where 1 = 0)
{%- endif -%}
{%- endmacro -%}

{#- Open exceptions of the plan type's quality checks from the given quality run: one row per
    (record, check). Binds :quality_object (API name), :quality_run_id and quality_check_<i>_check_id. -#}
{%- macro open_exceptions(n_checks) -%}
(select distinct q.record_id, q.check_id
from quality.exception_queue as q
inner join {{ values_table('quality_check', ['check_id'], n_checks) }} as qc on qc.check_id = q.check_id
where q.status = 'open'
    and q.object = :quality_object
    and q.last_run_id = :quality_run_id)
{%- endmacro -%}
