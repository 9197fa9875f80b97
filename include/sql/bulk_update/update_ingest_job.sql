update ops.bulk_update_ingest_job
set
    state = :state,
    results_read = :results_read,
    finished_at = cast(:finished_at as timestamp),
    error = :error
where job_id = :job_id
