{#- Monitoring results (issue 14), schema "quality". -#}
create schema if not exists quality;

-- every scored point of every series per monitoring run (re-running a run replaces its rows)
create table if not exists quality.anomaly_check (
    run_id varchar not null,
    as_of timestamp not null,           -- the KPI build's as-of time (data time)
    series varchar not null,            -- monitoring.yaml series name
    scope_type varchar not null,        -- all, lead_source, segment, object, owner
    scope_value varchar not null,
    grain varchar not null,             -- day, week, sync
    period_start date not null,
    period_end date not null,           -- exclusive (= period_start for a sync)
    value double,
    expected double,                    -- mean of the training window
    stddev double,
    lower_bound double,                 -- expected -/+ sigma x stddev
    upper_bound double,
    score double,                       -- z-score (+/-inf: flat training window, different value)
    training_points integer not null,
    outcome varchar not null,           -- anomaly, normal, not_evaluated
    direction varchar,                  -- drop, spike (anomalies)
    reason varchar not null             -- e.g. "not evaluated (needs 7 points, have 3)"
);

-- one row per anomaly episode of a series x scope: de-duplicated across runs (first/last seen),
-- resolved by the first run that scores the scope as normal again
create table if not exists quality.anomaly (
    anomaly_id varchar not null primary key,
    series varchar not null,
    scope_type varchar not null,
    scope_value varchar not null,
    grain varchar not null,
    description varchar,
    unit varchar,
    period_start date not null,         -- first anomalous period of the episode
    last_period_start date not null,    -- latest anomalous period
    value double,                       -- at the latest anomalous period
    expected double,
    lower_bound double,
    upper_bound double,
    score double,
    direction varchar not null,         -- drop, spike
    severity varchar not null,          -- warn, critical
    status varchar not null,            -- open, resolved
    first_seen_at timestamp not null,   -- as-of (data time) of the first run that saw it
    last_seen_at timestamp not null,    -- as-of of the latest run that saw it
    resolved_at timestamp,              -- as-of of the run that found the scope normal again
    first_run_id varchar not null,
    last_run_id varchar not null,
    likely_cause varchar,
    ticket_path varchar,
    alerted_at timestamp,               -- wall clock of the alert (null = not alerted)
    alert_log varchar                   -- channel: outcome, ...
);
