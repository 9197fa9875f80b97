{#- Tables that already exist in the schemas the KPI build reads (one round trip). -#}
select lower(table_schema) || '.' || lower(table_name) as qualified
from information_schema.tables
where lower(table_schema) in ('staging', 'ops', 'marts', 'quality')
