{#- Record that an object's table definitions (digest :ddl_hash) are applied. -#}
create table if not exists ops.object_ddl (
    object varchar not null primary key,
    ddl_hash varchar not null,
    applied_at timestamp not null
);

delete from ops.object_ddl where object = :object;

insert into ops.object_ddl (object, ddl_hash, applied_at)
values (:object, :ddl_hash, cast(:applied_at as timestamp));
