{#- Raw (as extracted, all text, with load metadata) and staging (typed, latest per key) tables
    for one object, plus the load bookkeeping tables. Safe to run any number of times. -#}
{% import 'macros.sql' as m with context %}
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists ops;

create table if not exists {{ obj.raw_table }} (
{%- for f in obj.fields %}
    "{{ f.api_name }}" varchar,
{%- endfor %}
    _batch_id varchar not null,
    _row_number bigint not null,
    _source varchar not null,
    _loaded_at timestamp not null,
    _origin varchar                   -- the row's file and line in a CSV export (null for APIs)
);
{#- Raw tables created before _origin gain it (added, never recreated). -#}
alter table {{ obj.raw_table }} add column if not exists _origin varchar;

{#- No PRIMARY KEY on staging: DuckDB's index makes bulk loads several times slower, and the
    merge guarantees one row per key (the tests assert the grain). -#}
create table if not exists {{ obj.staging_table }} (
{%- for f in obj.fields %}
    {{ f.column }} {{ m.sql_type(f.type) }}{% if f.api_name == obj.key %} not null{% endif %},
{%- endfor %}
    _batch_id varchar not null,
    _loaded_at timestamp not null
);

-- the source's own label of a field (CSV column map header): exception messages use it
create table if not exists ops.field_label (
    object varchar not null,            -- API name, e.g. Opportunity
    api_name varchar not null,
    label varchar not null
);

create table if not exists ops.load_watermark (
    object varchar not null,
    source varchar not null,
    watermark timestamp,
    batch_id varchar,
    updated_at timestamp,
    primary key (object, source)
);

create table if not exists ops.load_audit (
    batch_id varchar not null primary key,
    object varchar not null,
    source varchar not null,
    since timestamp,
    until timestamp not null,
    status varchar not null,          -- landed, loaded, failed
    rows_read bigint,
    rows_inserted bigint,
    rows_updated bigint,
    rows_unchanged bigint,
    rows_deleted bigint,
    rows_rejected bigint,
    schema_added varchar,             -- source fields not in the manifest (comma-separated)
    schema_missing varchar,           -- manifest fields the source did not return
    started_at timestamp,
    finished_at timestamp,
    run_id varchar,
    error varchar
);

create table if not exists ops.quarantine (
    batch_id varchar not null,
    object varchar not null,
    record_id varchar,
    row_number bigint not null,
    field varchar not null,
    value varchar,
    reason varchar not null,
    quarantined_at timestamp not null
);

create table if not exists raw.deleted_records (
    object varchar not null,
    source varchar not null,
    id varchar not null,
    deleted_at timestamp not null,
    _batch_id varchar not null,
    _loaded_at timestamp not null
);

{#- Extract details (Salesforce volume work): API calls of the extract, REST or Bulk, whether the
    id reconciliation ran, and a warning such as zero rows after a big sync. -#}
alter table ops.load_audit add column if not exists api_calls bigint;
alter table ops.load_audit add column if not exists extract_method varchar;
alter table ops.load_audit add column if not exists ids_reconciled boolean;
alter table ops.load_audit add column if not exists rows_reconciled_deleted bigint;
alter table ops.load_audit add column if not exists warning varchar;
alter table ops.load_audit add column if not exists formulas_refreshed boolean;
{#- Issue 11: older duplicate rows of an id not loaded (the latest version won), in the batch or
    dropped by the source before landing (CSV `duplicates: latest`). Added, never recreated, so
    warehouses created before it keep their audit history. -#}
alter table ops.load_audit add column if not exists rows_duplicates bigint;
{#- Issue 15: a value of an optional field marked on_bad_value: warn (objects.yaml) that does not
    parse no longer costs the record: it loads with the field empty (rows_warned counts those
    rows) and ops.quarantine keeps the value with severity 'warning'; 'error' rows stayed out of
    staging (older rows have no severity: all were errors). -#}
alter table ops.load_audit add column if not exists rows_warned bigint;
alter table ops.quarantine add column if not exists severity varchar;

{#- The one definition of the data's as-of time (salesops.as_of): the source clock at the latest
    successful load. Every SQL that needs "now" selects from this view. -#}
create or replace view ops.v_as_of as
select
    max(until) as as_of,
    max(finished_at) as load_finished_at
from ops.load_audit
where status = 'loaded';
