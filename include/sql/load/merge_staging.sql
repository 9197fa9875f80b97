{#- Merge the good rows of one batch into staging: latest version per key wins (by cursor, then
    row number), a version older than or equal to what staging holds changes nothing, and fields
    the source did not send (schema drift) keep their staged values.
    Fast path for the first load of an object (empty staging, one version per key): plain insert. -#}
{%- set cols = obj.fields | map(attribute='column') | list %}
{% if staging_empty and not has_duplicates %}
{#- Every row of the batch not in _bad is inserted: no need to scan the batch again. -#}
create or replace temporary table _merge_counts as
select cast(:rows_read as bigint) - (select count(*) from _bad) as rows_inserted,
       0 as rows_updated, 0 as rows_unchanged;

insert into {{ obj.staging_table }} ({{ cols | join(', ') }}, _batch_id, _loaded_at)
select {{ cols | join(', ') }}, _batch_id, _loaded_at
from _typed t
where t._n_bad = 0;
{% else %}
create or replace temporary table _good as
select {{ cols | join(', ') }}, _batch_id, _loaded_at
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

create or replace temporary table _merge_counts as
select
    coalesce(sum(case when s.{{ obj.key_column }} is null then 1 else 0 end), 0) as rows_inserted,
    coalesce(sum(case when s.{{ obj.key_column }} is not null and g.{{ obj.cursor_column }} > s.{{ obj.cursor_column }} then 1 else 0 end), 0) as rows_updated,
    coalesce(sum(case when s.{{ obj.key_column }} is not null and g.{{ obj.cursor_column }} <= s.{{ obj.cursor_column }} then 1 else 0 end), 0) as rows_unchanged
from _good g
left join {{ obj.staging_table }} s on s.{{ obj.key_column }} = g.{{ obj.key_column }};

merge into {{ obj.staging_table }} as s
using _good as g
on s.{{ obj.key_column }} = g.{{ obj.key_column }}
when matched and g.{{ obj.cursor_column }} > s.{{ obj.cursor_column }} then update set
{%- for f in obj.fields if f.api_name in present and f.api_name != obj.key %}
    {{ f.column }} = g.{{ f.column }},
{%- endfor %}
    _batch_id = g._batch_id,
    _loaded_at = g._loaded_at
when not matched then insert ({{ cols | join(', ') }}, _batch_id, _loaded_at)
    values ({% for c in cols %}g.{{ c }}, {% endfor %}g._batch_id, g._loaded_at);
{% endif %}
