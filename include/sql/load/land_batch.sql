{#- Stage one landed batch as session-temporary tables (_raw_batch: raw's columns and load
    metadata, _origin = the source's file and line of the row when it has one (a CSV export); _deletes: the deletes the source reported). Only temporary objects: on Snowflake
    this runs before the load's transaction, because any DDL there commits the open transaction.
    _notes: the source's reasons for values it knows will not parse (a CSV export: file, line,
    column, value, the map's format), by batch row and field.
    `relation` / `deleted_relation` are the landing Parquet (DuckDB) or the tables the Parquet
    was COPied into through a stage (Snowflake). Landed names are quoted: on Snowflake they are
    case-sensitive (the Parquet's own names), unlike the unquoted names of our tables. -#}
create or replace temporary table _raw_batch as
select
{%- for c in raw_columns %}
    {% if c in columns %}cast("{{ c }}" as varchar){% else %}cast(null as varchar){% endif %} as "{{ c }}",
{%- endfor %}
    cast(:batch_id as varchar) as _batch_id,
    cast("_row_number" as bigint) as _row_number,  -- noqa: RF06
    cast("_origin" as varchar) as _origin,  -- noqa: RF06
    cast(:source as varchar) as _source,
    cast(:loaded_at as timestamp) as _loaded_at
from {{ relation }};

create or replace temporary table _deletes as
select cast("id" as varchar) as id, cast("deleted_at" as timestamp) as deleted_at  -- noqa: RF06
from {{ deleted_relation }};

create or replace temporary table _notes as
select
    cast("note_row" as bigint) as note_row,  -- noqa: RF06
    cast("note_field" as varchar) as note_field,  -- noqa: RF06
    cast("note_reason" as varchar) as note_reason  -- noqa: RF06
from {{ notes_relation }};
