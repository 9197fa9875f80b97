{#- The columns of one table or view, in order (DuckDB's catalog; Warehouse.columns). Names compare
    case-insensitively, as DuckDB resolves them. -#}
select column_name
from information_schema.columns
where table_catalog = current_database() and lower(table_schema) = lower(:s) and lower(table_name) = lower(:t)
order by ordinal_position
