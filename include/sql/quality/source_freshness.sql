{#- Latest successful load per object (source clock `until`, loader clock `finished_at`). -#}
select object, max(until) as last_until, max(finished_at) as last_finished_at
from ops.load_audit
where status = 'loaded'
group by object
