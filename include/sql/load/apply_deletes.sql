{#- Record the deletes the source reported for this batch and remove those rows from staging
    (unless staging holds a newer version than the delete, i.e. the record was undeleted). -#}
delete from raw.deleted_records where _batch_id = :batch_id;

insert into raw.deleted_records (object, source, id, deleted_at, _batch_id, _loaded_at)
select :object, :source, id, deleted_at, :batch_id, cast(:loaded_at as timestamp)
from {{ relation }};

create or replace temporary table _deleted_counts as
select count(*) as rows_deleted
from {{ obj.staging_table }} s
where exists (
    select 1 from raw.deleted_records d
    where d._batch_id = :batch_id and d.id = s.{{ obj.key_column }} and d.deleted_at >= s.{{ obj.cursor_column }}
);

delete from {{ obj.staging_table }}
where {{ obj.key_column }} in (
    select d.id from raw.deleted_records d
    join {{ obj.staging_table }} s on s.{{ obj.key_column }} = d.id
    where d._batch_id = :batch_id and d.deleted_at >= s.{{ obj.cursor_column }}
);
