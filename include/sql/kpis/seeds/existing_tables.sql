{#- Tables that already exist in the schemas the KPI build reads (one round trip), named as the
    SQL names them (schema_names: the project's schema -> its name in the warehouse, which differs
    under a Snowflake schema_prefix; this lookup reads names as data, so it maps them itself). -#}
{%- set read = ['staging', 'ops', 'marts', 'quality'] %}
select
    case lower(table_schema)
    {%- for s in read %}
        when '{{ schema_names[s] | lower }}' then '{{ s }}'
    {%- endfor %}
    end || '.' || lower(table_name) as qualified
from information_schema.tables
where lower(table_schema) in ({% for s in read %}'{{ schema_names[s] | lower }}'{{ ", " if not loop.last }}{% endfor %})
