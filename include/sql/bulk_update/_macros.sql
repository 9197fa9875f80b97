{#- Helpers for plan SQL. Values always arrive as bind parameters; Jinja only lays out the
    placeholders (salesops.bulk_update.plan.values_params builds the matching parameter dict). -#}
{%- macro values_table(name, cols, n) -%}
(select * from (values
{%- for i in range(n) %}
    ({% for c in cols %}:{{ name }}_{{ i }}_{{ c }}{{ ", " if not loop.last }}{% endfor %}){{ "," if not loop.last }}
{%- endfor %}
) as {{ name }}_v ({{ cols | join(", ") }}))
{%- endmacro -%}
