{% import 'macros.sql' as m with context %}
-- Rows per object per sync (integration health): rows read per hour of the extract window of every
-- incremental batch in ops.load_audit (full loads, since = null, are not comparable and left out).
-- One point per sync: `day` is the sync's window end, `sync_seq` orders the points.
with audit as (
    select * from ops.load_audit
    where status = 'loaded'
      and since is not null
      and until > since
      and cast(until as date) >= :from_date and cast(until as date) <= :as_of_date
)

select
    'object' as scope_type,
    object as scope_value,
    until as day,
    cast(rows_read as double) as numerator,
    {{ m.seconds_between('since', 'until') }} / 3600.0 as denominator
from audit
