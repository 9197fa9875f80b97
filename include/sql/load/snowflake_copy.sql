{#- Snowflake only: COPY the staged Parquet into the landing tables (snowflake_stage.sql), matching
    columns by name. FORCE because the tables are new each load; PURGE empties the stage. -#}
{% for l in landings if l.files %}
copy into {{ l.table }} from @{{ stage }}/{{ l.kind }}
    file_format = (type = parquet) match_by_column_name = case_insensitive force = true purge = true;
{% endfor %}
