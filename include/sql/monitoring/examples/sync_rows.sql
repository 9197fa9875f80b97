-- Evidence for a sync that brought fewer rows than usual: the object's recent incremental batches.
select batch_id, object, source, since, until, rows_read, rows_inserted, rows_updated, rows_rejected, status
from ops.load_audit
where object = :scope_value and status = 'loaded' and since is not null
order by until desc
