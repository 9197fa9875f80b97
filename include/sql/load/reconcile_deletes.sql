{#- Id reconciliation: staged records whose id the source no longer has (a full list of live ids
    in {{ relation }}) are deleted, recorded in raw.deleted_records with the batch's until as
    deleted_at (the exact time is unknown), and counted in the audit. -#}
create or replace temporary table _reconciled as
select s.{{ obj.key_column }} as id
from {{ obj.staging_table }} as s
where
    s.{{ obj.cursor_column }} <= cast(:until as timestamp)
    and not exists (select 1 from {{ relation }} as l where l.id = s.{{ obj.key_column }});

insert into raw.deleted_records (object, source, id, deleted_at, _batch_id, _loaded_at)
select
    :object,
    :source,
    id,
    cast(:until as timestamp),
    :batch_id,
    cast(:loaded_at as timestamp)
from _reconciled;

delete from {{ obj.staging_table }}
where {{ obj.key_column }} in (select id from _reconciled);

update ops.load_audit set rows_reconciled_deleted = (select count(*) from _reconciled)
where batch_id = :batch_id;
