{#- Delivery bookkeeping of the report packs (schema ops). -#}
create schema if not exists ops;

create table if not exists ops.pack_delivery_log (
    pack varchar not null,
    period varchar not null,            -- ISO week, fiscal month/quarter label or day (packs.yaml period)
    scope_type varchar not null,        -- all, region, team, owner
    scope_value varchar not null,
    recipient varchar not null,         -- address, Slack connection, file-drop URL, or '-' for a hold
    channel varchar not null,           -- email, slack, file, hold
    sent_at timestamp not null,         -- when the attempt finished (wall clock, UTC)
    status varchar not null,            -- sent, failed, skipped, held
    detail varchar,                     -- why (hold reasons, skip reason, error, hold notice)
    as_of timestamp,                    -- the data's as-of time the pack reports
    due_at timestamp,                   -- load finished + packs.yaml deliver_within_hours (on-time KPI)
    run_id varchar
);

create table if not exists ops.pack_hold (
    pack varchar not null,
    period varchar not null,
    scope_type varchar not null,
    scope_value varchar not null,
    held_at timestamp not null,
    as_of timestamp,
    reasons varchar not null,           -- every failed gate / pack check, '; '-separated
    held_dir varchar not null,          -- where the held files are (output_dir()/packs/held/...)
    run_id varchar
);
