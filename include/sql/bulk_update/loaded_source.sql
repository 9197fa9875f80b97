{#- The source system of the latest successful load (where the staging data came from). -#}
select source
from ops.load_audit
where status = 'loaded'
order by until desc, finished_at desc
limit 1
