{#- Bulk-update bookkeeping in schema ops: plans (immutable content + status), plan rows,
    approvals and the change log (append-only ledger). Safe to run any number of times. -#}
create schema if not exists ops;

create table if not exists ops.bulk_update_plan (
    plan_id varchar not null primary key,
    plan_type varchar not null,
    object varchar not null,            -- objects.yaml name
    api_name varchar not null,          -- CRM object name
    requester varchar not null,
    reason varchar,
    created_at timestamp not null,      -- wall clock (UTC) when the plan was built
    as_of timestamp,                    -- the data's extraction time the plan was computed against
    expires_at timestamp not null,      -- unanswered after this: expired, nothing applied
    scope varchar not null,             -- JSON: filters and parameters the plan SQL ran with
    record_count bigint not null,
    change_count bigint not null,
    object_row_count bigint not null,
    content_hash varchar not null,      -- sha256 of the canonical rows (see plan.content_hash)
    approver_group varchar not null,
    sensitive boolean not null,
    undo_of_plan_id varchar,
    dag_id varchar,
    run_id varchar,
    artifact_dir varchar,
    status varchar not null,            -- built, approved, rejected, expired, applying, applied, applied_with_errors
    status_updated_at timestamp not null
);

create table if not exists ops.bulk_update_plan_row (
    plan_id varchar not null,
    change_id varchar not null primary key,   -- plan_id:record_id:field
    seq bigint not null,
    record_id varchar not null,
    field varchar not null,
    role varchar not null,              -- change (written) | guard (re-checked, never written)
    before_value varchar,
    after_value varchar,
    record_name varchar,
    owner_id varchar,
    region varchar,
    undo_of_change_id varchar,
    object varchar                      -- objects.yaml name when the plan writes several objects
);

-- Added after the first release: warehouses created before it gain the column (idempotent).
alter table ops.bulk_update_plan_row add column if not exists object varchar;

create table if not exists ops.bulk_update_approval (
    approval_id varchar not null primary key,
    plan_id varchar not null,
    plan_hash varchar not null,
    decision varchar not null,          -- approve | reject | expired | refused
    approver varchar,
    responded_at timestamp not null,
    comment varchar,
    channel varchar not null,           -- ui | sensor | cli | demo | timeout
    signature varchar,                  -- HMAC-SHA256 for signed records (cli/sensor)
    run_id varchar,
    recorded_at timestamp not null
);

create table if not exists ops.bulk_update_change_log (
    event_id varchar not null primary key,
    change_id varchar not null,
    plan_id varchar not null,
    run_id varchar,
    approver varchar,
    object varchar not null,
    record_id varchar not null,
    field varchar not null,
    old_value varchar,
    new_value varchar,
    status varchar not null,            -- pending, applied, already_applied, skipped_drift, failed, mismatch, verified
    attempt bigint,
    batch_no bigint,
    applied_at timestamp,
    error varchar,
    logged_at timestamp not null
);
