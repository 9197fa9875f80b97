{#- Rebuild one model as a table (idempotent: the whole table is replaced). -#}
{% import "macros.sql" as m with context -%}
create or replace table marts.{{ model.name }} as
{% include model.template %}
