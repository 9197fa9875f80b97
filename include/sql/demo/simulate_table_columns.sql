{#- Columns and types of a demo CRM table, in table order (salesops_demo/simulate.py). Bind: $1 the table. -#}
-- noqa: disable=CP02, RF06
select column_name, data_type
from information_schema.columns
where table_schema = 'main' and table_name = $1
order by ordinal_position
