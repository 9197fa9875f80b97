insert into ops.bulk_update_ingest_job (
    job_id, plan_id, run_id, object, records, state, results_read, opened_at
) values (
    :job_id, :plan_id, :run_id, :object, :records, :state, false, cast(:opened_at as timestamp)
)
