{#- Land one extracted batch in raw, as text, with load metadata. Re-running a batch replaces it.
    On DuckDB it runs first (see land_batch.sql), inside the load's transaction. -#}
delete from {{ obj.raw_table }} where _batch_id = :batch_id;

insert into {{ obj.raw_table }} ({% for c in raw_columns %}"{{ c }}", {% endfor %}_batch_id, _row_number, _origin, _source, _loaded_at)
select {% for c in raw_columns %}"{{ c }}", {% endfor %}cast(:batch_id as varchar), _row_number, _origin,
       cast(:source as varchar), cast(:loaded_at as timestamp)
from {{ '_landed' if dialect == 'duckdb' else '_raw_batch' }};
