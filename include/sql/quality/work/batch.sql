{#- Materialise one input (a GX batch, the duplicate matcher's records) as a working table, or
    (as_view) define it as a view: a key-integrity batch is one column of a staging table, and
    the matcher's records are read once by the matcher and twice by dup_outcome.sql: a copy of
    either would only cost time (2 M leads' names and addresses: about 7 CPU-s to write). -#}
create or replace {{ 'view' if as_view is defined and as_view else 'table' }} {{ target }} as
{% include source %}
