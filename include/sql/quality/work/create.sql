{#- Working tables of one quality run (replaced at the start of every run, dropped at its end).
    Every check's outcome lands here set-wise, so the results, the exception rows and the
    scorecard are aggregated in the warehouse instead of in Python frames:
    - work_outcome: one row per (check, object) outcome of the run;
    - work_population: the records each outcome evaluated, with their scope and whether they
      failed (one row per outcome and record), for the outcomes the scorecard needs record by
      record (a metric several checks feed counts each record once; duplicates per 1,000 new
      records filters by created_at);
    - work_population_count: the other outcomes' evaluated records counted by scope and failed
      (check_result and a one-check metric only count them: writing 2 M rows per lead check cost
      more than the check);
    - work_exception: the offending records of each outcome (one row per outcome, record, detail),
      with the record's scope;
    - work_not_evaluated: the records an outcome's rule could not be applied to, with the reason. -#}
create or replace table quality.work_outcome (
    outcome integer not null,
    check_id varchar not null,
    object varchar not null,
    severity varchar not null,
    queue boolean not null
);

create or replace table quality.work_population (
    outcome integer not null,
    record_id varchar,
    owner_id varchar,
    manager_id varchar,
    team varchar,
    region varchar,
    segment varchar,
    created_at timestamp,
    failed boolean not null
);

create or replace table quality.work_population_count (
    outcome integer not null,
    owner_id varchar,
    manager_id varchar,
    team varchar,
    region varchar,
    segment varchar,
    failed boolean not null,
    records bigint not null
);

create or replace table quality.work_exception (
    outcome integer not null,
    record_id varchar,
    detail varchar not null,
    related_id varchar,
    owner_id varchar,
    manager_id varchar,
    team varchar,
    region varchar,
    segment varchar
);

-- records an outcome's rule could not be applied to (e.g. an amount whose currency has no
-- conversion rate), with the reason: neither passed nor failed, counted as not_evaluated
create or replace table quality.work_not_evaluated (
    outcome integer not null,
    record_id varchar,
    reason varchar not null,
    owner_id varchar,
    manager_id varchar,
    team varchar,
    region varchar,
    segment varchar
);

create or replace table quality.work_dup_found (
    record_id varchar not null,
    detail varchar not null,
    related_id varchar
);
