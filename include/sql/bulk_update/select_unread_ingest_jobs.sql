{#- Ingest jobs of a plan whose results are not in the change log yet (an interrupted apply). -#}
select
    job_id,
    object,
    records,
    state
from ops.bulk_update_ingest_job
where plan_id = :plan_id and not results_read
order by opened_at
