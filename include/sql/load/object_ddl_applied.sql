{#- The digest of the table definitions last applied for an object (DuckDB: its staging table's
    comment, see record_object_ddl.sql); ensure_object_tables skips its DDL while it matches. -#}
select comment
from duckdb_tables()
where database_name = current_database() and lower(schema_name) = lower(:s) and lower(table_name) = lower(:t)
