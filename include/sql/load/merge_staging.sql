{#- Merge the good rows of one batch into staging: latest version per key wins (by cursor, then
    row number), a version older than or equal to what staging holds changes nothing, and fields
    the source did not send (schema drift) keep their staged values. -#}
create or replace temporary table _good as
select *
from (
    select
        t.*,
        row_number() over (partition by {{ obj.key_column }} order by {{ obj.cursor_column }} desc, _row_number desc) as _rn
    from _typed t
    where not exists (
        select 1 from ops.quarantine q where q.batch_id = :batch_id and q.row_number = t._row_number
    )
) ranked
where _rn = 1;

create or replace temporary table _merge_counts as
select
    coalesce(sum(case when s.{{ obj.key_column }} is null then 1 else 0 end), 0) as rows_inserted,
    coalesce(sum(case when s.{{ obj.key_column }} is not null and g.{{ obj.cursor_column }} > s.{{ obj.cursor_column }} then 1 else 0 end), 0) as rows_updated,
    coalesce(sum(case when s.{{ obj.key_column }} is not null and g.{{ obj.cursor_column }} <= s.{{ obj.cursor_column }} then 1 else 0 end), 0) as rows_unchanged
from _good g
left join {{ obj.staging_table }} s on s.{{ obj.key_column }} = g.{{ obj.key_column }};

{% if staging_empty %}
insert into {{ obj.staging_table }} ({% for f in obj.fields %}{{ f.column }}, {% endfor %}_batch_id, _loaded_at)
select {% for f in obj.fields %}{{ f.column }}, {% endfor %}_batch_id, _loaded_at
from _good;
{% else %}
merge into {{ obj.staging_table }} as s
using _good as g
on s.{{ obj.key_column }} = g.{{ obj.key_column }}
when matched and g.{{ obj.cursor_column }} > s.{{ obj.cursor_column }} then update set
{%- for f in obj.fields if f.api_name in present and f.api_name != obj.key %}
    {{ f.column }} = g.{{ f.column }},
{%- endfor %}
    _batch_id = g._batch_id,
    _loaded_at = g._loaded_at
when not matched then insert ({% for f in obj.fields %}{{ f.column }}, {% endfor %}_batch_id, _loaded_at)
    values ({% for f in obj.fields %}g.{{ f.column }}, {% endfor %}g._batch_id, g._loaded_at);
{% endif %}
