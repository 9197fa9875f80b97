{#- Materialise one input (a GX batch, the duplicate matcher's records) as a working table, or
    (as_view) define it as a view: a key-integrity batch is one column of a staging table, a
    copy of it would only cost time. -#}
create or replace {{ 'view' if as_view is defined and as_view else 'table' }} {{ target }} as
{% include source %}
