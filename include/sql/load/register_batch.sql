{#- Record an extracted (landed) batch. Re-extracting the same window replaces its audit row. -#}
delete from ops.load_audit where batch_id = :batch_id;

insert into ops.load_audit (batch_id, object, source, since, until, status, rows_read, schema_added,
                            schema_missing, started_at, run_id)
values (:batch_id, :object, :source, cast(:since as timestamp), cast(:until as timestamp), 'landed',
        :rows_read, :schema_added, :schema_missing, cast(:started_at as timestamp), :run_id);
