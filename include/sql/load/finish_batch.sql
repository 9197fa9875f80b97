{#- Close the batch: audit counts, status, and the object's watermark (only ever moves forward). -#}
update ops.load_audit set
    status = 'loaded',
    rows_read = :rows_read,
    rows_inserted = :rows_inserted,
    rows_updated = :rows_updated,
    rows_unchanged = :rows_unchanged,
    rows_deleted = :rows_deleted,
    rows_rejected = :rows_rejected,
    rows_duplicates = :rows_duplicates,
    rows_warned = :rows_warned,
    schema_added = :schema_added,
    schema_missing = :schema_missing,
    finished_at = cast(:finished_at as timestamp),
    error = null
where batch_id = :batch_id;

merge into ops.load_watermark as w
using (select :object as object, :source as source, cast(:until as timestamp) as watermark, :batch_id as batch_id) as b
on w.object = b.object and w.source = b.source
when matched and (w.watermark is null or b.watermark > w.watermark) then update set
    watermark = b.watermark, batch_id = b.batch_id, updated_at = cast(:finished_at as timestamp)
when not matched then insert (object, source, watermark, batch_id, updated_at)
    values (b.object, b.source, b.watermark, b.batch_id, cast(:finished_at as timestamp));
