{#- Territory change bookkeeping (schema ops), written by the territory_change plan type:
    every proposed map with the plan built from it, and the account -> owner/territory history
    (valid_from inclusive, valid_to exclusive, null = current) that answers "who owned / which
    territory covered this account on date D". Safe to run any number of times. -#}
create schema if not exists ops;

create table if not exists ops.territory_map_version (
    plan_id varchar not null primary key,   -- the territory_change plan built from the map
    version varchar not null,               -- territory_map.yaml version
    effective_date date,
    map_json varchar not null,              -- the proposed map as validated (owners resolved to ids)
    map_hash varchar not null,              -- sha256 of map_json
    status varchar not null,                -- proposed, applied, applied_with_errors, undone
    built_at timestamp not null,
    applied_at timestamp,
    undo_plan_id varchar,
    undone_at timestamp
);

create table if not exists ops.territory_assignment_history (
    record_id varchar not null,             -- account id
    owner_id varchar,
    territory varchar,                      -- null on baseline rows (before any map was applied)
    valid_from timestamp not null,
    valid_to timestamp,
    version varchar not null,               -- 'baseline' or the map version
    plan_id varchar,                        -- the plan whose apply opened the row
    closed_by_plan_id varchar               -- the plan whose apply closed it
);
