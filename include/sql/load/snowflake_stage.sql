{#- Snowflake only: where a landed batch goes before land_batch.sql reads it. A temporary stage
    for the Parquet files and one transient landing table per kind of file (the rows, every field
    as text; the deletes; live ids; formula values), columns named exactly as in the Parquet,
    hence quoted. Recreated per load, so COPY's load history never skips a re-run batch. -#}
create or replace temporary stage {{ stage }} file_format = (type = parquet);
{% for l in landings %}
create or replace transient table {{ l.table }} (
{%- for name, type in l.columns %}
    "{{ name }}" {{ type }}{{ "," if not loop.last }}
{%- endfor %}
);
{% endfor %}
