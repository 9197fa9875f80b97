{#- The digest of the table definitions (create_tables.sql as rendered for the object, plus the
    staging columns it adds) last applied for an object: ensure_object_tables skips its DDL while
    it matches and the tables exist. -#}
select ddl_hash from ops.object_ddl where object = :object
