{#- Record that an object's table definitions are applied (DuckDB): the digest of create_tables.sql
    as rendered for the object goes in its staging table's comment (a catalog note, not a row:
    the warehouse's tables and rows stay as they were). `digest` is hex. -#}
comment on table {{ obj.staging_table }} is 'salesops ddl {{ digest }}'
