{#- Stage one landed batch as session-temporary tables (_raw_batch: raw's columns and load
    metadata, _origin = the source's file and line of the row when it has one (a CSV export); _deletes: the deletes the source reported). Only temporary objects: on Snowflake
    this runs before the load's transaction, because any DDL there commits the open transaction.
    _notes: the source's reasons for values it knows will not parse (a CSV export: file, line,
    column, value, the map's format), by batch row and field.
    `origin_landed` is false for a batch landed before parts carried `_origin` (no origin then).
    `relation` / `deleted_relation` are the landing Parquet (DuckDB) or the tables the Parquet
    was COPied into through a stage (Snowflake). Landed names are quoted: on Snowflake they are
    case-sensitive (the Parquet's own names), unlike the unquoted names of our tables. -#}
{#- On DuckDB the landed Parquet is read once, by insert_raw.sql (from the view _landed, inside
    the load's transaction, before anything else reads the batch), and _raw_batch is the batch as
    raw then holds it: the typing, the quarantine and the merge scan DuckDB's own storage instead
    of decoding the Parquet again (typing 1 M opportunities from raw costs about a quarter less
    CPU than from the Parquet). Views take no bind parameters: the batch id is written in (load.py
    allows only [A-Za-z0-9_.-] in it), and the source and load time are added by the statements
    that write. On Snowflake _raw_batch is a table over the COPied landing. -#}
{%- set landed %}
select
{%- for c in raw_columns %}
    {% if c in columns %}cast("{{ c }}" as varchar){% else %}cast(null as varchar){% endif %} as "{{ c }}",
{%- endfor %}
    cast("_row_number" as bigint) as _row_number,  -- noqa: RF06
    {% if origin_landed %}cast("_origin" as varchar){% else %}cast(null as varchar){% endif %} as _origin  -- noqa: RF06
from {{ relation }}
{%- endset %}
{% if dialect == 'duckdb' %}
create or replace temporary view _landed as
{{ landed }};

create or replace temporary view _raw_batch as
select {% for c in raw_columns %}"{{ c }}", {% endfor %}_row_number, _origin
from {{ obj.raw_table }}
where _batch_id = '{{ batch_id }}';
{% else %}
create or replace temporary table _raw_batch as
{{ landed }};
{% endif %}

create or replace temporary table _deletes as
select cast("id" as varchar) as id, cast("deleted_at" as timestamp) as deleted_at  -- noqa: RF06
from {{ deleted_relation }};

create or replace temporary table _notes as
select
    cast("note_row" as bigint) as note_row,  -- noqa: RF06
    cast("note_field" as varchar) as note_field,  -- noqa: RF06
    cast("note_reason" as varchar) as note_reason  -- noqa: RF06
from {{ notes_relation }};
