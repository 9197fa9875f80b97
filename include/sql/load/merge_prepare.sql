{#- What merge_staging.sql will do, computed before it runs (temporary tables only, so on Snowflake
    this runs before the load's transaction): _good, the latest good version per key (by cursor,
    then row number); _upsert, the complete new staging row of every key the batch inserts or
    updates (a field the source did not send keeps its staged value: schema drift), flagged
    _matched when it replaces a staged row; and _merge_counts, how many rows it inserts, updates
    and leaves unchanged, and how many good rows lost to a later version of their id in the same
    batch (duplicates).
    Fast path for the first load of an object (empty staging, one version per key): no _good. -#}
{%- set cols = obj.fields | map(attribute='column') | list %}
{% if staging_empty and not has_duplicates %}
{#- Every row of the batch not in _bad is inserted: no need to scan the batch again. -#}
create or replace temporary table _merge_counts as
select cast(:rows_read as bigint) - (select count(*) from _bad) as rows_inserted,
       0 as rows_updated, 0 as rows_unchanged, 0 as rows_duplicates;
{% else %}
create or replace temporary table _good as
select {{ cols | join(', ') }}, cast(:batch_id as varchar) as _batch_id, cast(:loaded_at as timestamp) as _loaded_at
from (
    select
        t.*
        {%- if has_duplicates %},
        row_number() over (partition by {{ obj.key_column }} order by {{ obj.cursor_column }} desc, _row_number desc) as _rn
        {%- endif %}
    from _typed t
    where t._n_bad = 0
) ranked
{%- if has_duplicates %}
where _rn = 1
{%- endif %};

create or replace temporary table _upsert as
select
{%- for f in obj.fields %}
    {% if f.api_name in present or f.api_name == obj.key %}g{% else %}s{% endif %}.{{ f.column }},
{%- endfor %}
    g._batch_id,
    g._loaded_at,
    s.{{ obj.key_column }} is not null as _matched
from _good g
left join {{ obj.staging_table }} s on s.{{ obj.key_column }} = g.{{ obj.key_column }}
where s.{{ obj.key_column }} is null or g.{{ obj.cursor_column }} > s.{{ obj.cursor_column }};

create or replace temporary table _merge_counts as
select
    coalesce(sum(case when s.{{ obj.key_column }} is null then 1 else 0 end), 0) as rows_inserted,
    coalesce(sum(case when s.{{ obj.key_column }} is not null and g.{{ obj.cursor_column }} > s.{{ obj.cursor_column }} then 1 else 0 end), 0) as rows_updated,
    coalesce(sum(case when s.{{ obj.key_column }} is not null and g.{{ obj.cursor_column }} <= s.{{ obj.cursor_column }} then 1 else 0 end), 0) as rows_unchanged,
    -- good rows that lost to a later version of the same id in this batch
    cast(:rows_read as bigint) - (select count(*) from _bad) - (select count(*) from _good) as rows_duplicates
from _good g
left join {{ obj.staging_table }} s on s.{{ obj.key_column }} = g.{{ obj.key_column }};
{% endif %}
