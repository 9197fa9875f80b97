{#- Which of the given tables and views exist (DuckDB's catalog; Warehouse.table_exists and the
    load's schema check): `names` are checked, schema-qualified identifiers. -#}
select distinct lower(table_schema) || '.' || lower(table_name) as name
from information_schema.tables
where table_catalog = current_database() and lower(table_schema) || '.' || lower(table_name) in (
{%- for n in names %}'{{ n | lower }}'{% if not loop.last %}, {% endif %}{% endfor -%}
)
