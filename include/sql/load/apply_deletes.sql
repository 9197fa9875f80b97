{#- Record the deletes the source reported for this batch (_deletes, see land_batch.sql) and
    remove those rows from staging (unless staging holds a newer version than the delete, i.e. the
    record was undeleted). -#}
delete from raw.deleted_records where _batch_id = :batch_id;

insert into raw.deleted_records (object, source, id, deleted_at, _batch_id, _loaded_at)
select :object, :source, id, deleted_at, :batch_id, cast(:loaded_at as timestamp)
from _deletes;

delete from {{ obj.staging_table }}
where {{ obj.key_column }} in (
    select d.id from _deletes d
    join {{ obj.staging_table }} s on s.{{ obj.key_column }} = d.id
    where d.deleted_at >= s.{{ obj.cursor_column }}
);
