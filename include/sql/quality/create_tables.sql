{#- Quality results (schema "quality"). Stable names; documented in plugins/salesops/quality/__init__.py. -#}
create schema if not exists quality;

create table if not exists quality.run (
    run_id varchar not null primary key,
    as_of timestamp not null,           -- data time every time-based rule used
    started_at timestamp,
    finished_at timestamp,
    status varchar,                     -- running, checked, gate_passed, gate_failed
    gate_passed boolean,
    blockers_failed integer,
    warns_failed integer,
    gate_message varchar,
    checks_run varchar,                 -- comma-separated check ids
    data_docs_path varchar
);

create table if not exists quality.check_result (
    run_id varchar not null,
    as_of timestamp not null,
    check_id varchar not null,
    object varchar not null,            -- API name (Opportunity, Lead, ...) or '*'
    scope_type varchar not null,        -- all, owner, team, region, segment, object, period
    scope_value varchar not null,       -- 'all' for scope_type all
    evaluated bigint not null,          -- records (or objects/periods) the rule applied to
    failed bigint not null,             -- of those, records that broke it
    rate double,                        -- failed / evaluated (null when nothing was evaluated)
    target double not null,             -- highest failed rate at which the check passes
    severity varchar not null,          -- blocker, warn
    passed boolean,                     -- null when the check was not evaluated
    value double,                       -- check-specific figure: duplicates per 1,000, lag hours, variance %
    value_label varchar,
    engine varchar not null,            -- gx, sql, python
    status varchar,                     -- passed, failed, not_evaluated
    reason varchar                      -- why not evaluated (a needed object/field the data lacks)
);

-- tables created before checks could be "not evaluated"
alter table quality.check_result add column if not exists status varchar;
alter table quality.check_result add column if not exists reason varchar;
alter table quality.check_result alter column passed drop not null;
-- records in the scope the rule could not be applied to (issue 13: an amount whose currency has no
-- conversion rate); not in evaluated or failed. reason then says why, with the count.
alter table quality.check_result add column if not exists not_evaluated bigint;

-- each record a check could not evaluate, with the reason (counted in check_result.not_evaluated)
create table if not exists quality.run_not_evaluated (
    run_id varchar not null,
    as_of timestamp not null,
    check_id varchar not null,
    object varchar not null,
    record_id varchar not null,
    reason varchar not null,
    owner_id varchar,
    manager_id varchar,
    team varchar,
    region varchar,
    segment varchar
);

create table if not exists quality.run_exception (
    run_id varchar not null,
    as_of timestamp not null,
    check_id varchar not null,
    object varchar not null,
    record_id varchar not null,
    detail varchar not null,
    related_id varchar,
    owner_id varchar,
    manager_id varchar,
    team varchar,
    region varchar,
    segment varchar,
    severity varchar not null
);

create table if not exists quality.exception_queue (
    check_id varchar not null,
    object varchar not null,
    record_id varchar not null,
    detail varchar not null,            -- '' when the check has no detail
    related_id varchar,                 -- duplicates: the original record
    owner_id varchar,
    manager_id varchar,
    team varchar,
    region varchar,
    segment varchar,
    severity varchar not null,
    status varchar not null,            -- open, resolved
    first_seen timestamp not null,      -- as-of of the run that first saw it (reset when it reopens)
    last_seen timestamp not null,       -- as-of of the latest run that saw it
    first_run_id varchar not null,
    last_run_id varchar not null,
    resolved_at timestamp,              -- as-of of the run that no longer saw it
    resolved_run_id varchar,
    primary key (check_id, object, record_id, detail)
);
-- the exception in words (field label, wrong value, expected value): quality/messages.py
alter table quality.run_exception add column if not exists message varchar;
alter table quality.exception_queue add column if not exists message varchar;

create table if not exists quality.scorecard (
    run_id varchar not null,
    as_of timestamp not null,
    metric varchar not null,
    scope_type varchar not null,        -- all, team, owner, region
    scope_value varchar not null,
    numerator double,
    denominator double,
    value double,
    target double not null,
    comparator varchar not null,
    met boolean,                        -- null when no check behind the metric could be evaluated
    reason varchar                      -- the checks left out as not evaluated, and why
);

alter table quality.scorecard add column if not exists reason varchar;

create table if not exists quality.duplicate_cluster (
    run_id varchar not null,
    object varchar not null,
    cluster_id varchar not null,        -- the cluster's original record id
    record_id varchar not null,
    is_original boolean not null,
    match_kind varchar,                 -- exact, fuzzy:<case|punctuation|typo|email_alias|company_suffix|name_order|acronym>
    score double
);

create table if not exists quality.ticket (
    run_id varchar not null,
    ticket_id varchar not null,
    rule varchar not null,
    check_id varchar not null,
    scope_type varchar not null,
    scope_value varchar not null,
    severity varchar not null,
    title varchar not null,
    impact_count bigint,
    impact_pct double,
    pipeline_amount double,
    example_ids varchar,
    path varchar,
    body_md varchar
);

create or replace view quality.v_open_exceptions as
select
    q.*,
    datediff('day', q.first_seen, (select max(r.as_of) from quality.run r)) as age_days
from quality.exception_queue q
where q.status = 'open';
