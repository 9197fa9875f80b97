{#- Per object, the schema_missing lists of its loaded batches that read rows: a manifest field
    missing from every one of them is one the source does not deliver (not mapped, not exported). -#}
select object, schema_missing
from ops.load_audit
where status = 'loaded' and rows_read > 0
