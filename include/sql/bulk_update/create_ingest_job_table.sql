{#- Bulk API 2.0 ingest jobs of bulk-update plans (salesops.bulk_update.ingest): one row per job,
    written before the job's data is uploaded, so an apply that dies mid-job finds the job and
    re-reads it instead of submitting the plan again. Safe to run any number of times. -#}
create schema if not exists ops;

create table if not exists ops.bulk_update_ingest_job (
    job_id varchar not null primary key,
    plan_id varchar not null,
    run_id varchar,
    object varchar not null,            -- CRM object name
    records bigint not null,            -- rows uploaded
    state varchar not null,             -- Open, UploadComplete, then the job's end state once read
    results_read boolean not null,      -- per-record results are in the change log
    opened_at timestamp not null,
    finished_at timestamp,
    error varchar
);
