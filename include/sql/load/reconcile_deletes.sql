{#- Id reconciliation (reconcile_prepare.sql found the ids): the staged records the source no
    longer has are deleted, recorded in raw.deleted_records with the batch's until as deleted_at
    (the exact time is unknown), and counted in the audit. DML only. -#}
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
