select
    job_id,
    plan_id,
    run_id,
    object,
    records,
    state,
    results_read,
    error
from ops.bulk_update_ingest_job
where plan_id = :plan_id
order by opened_at
