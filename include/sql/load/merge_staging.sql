{#- Merge the good rows of one batch into staging (merge_prepare.sql built _good): latest version
    per key wins, a version older than or equal to what staging holds changes nothing, and fields
    the source did not send (schema drift) keep their staged values.
    Fast path for the first load of an object (empty staging, one version per key): plain insert. -#}
{%- set cols = obj.fields | map(attribute='column') | list %}
{% if staging_empty and not has_duplicates %}
insert into {{ obj.staging_table }} ({{ cols | join(', ') }}, _batch_id, _loaded_at)
select {{ cols | join(', ') }}, cast(:batch_id as varchar), cast(:loaded_at as timestamp)
from _typed t
where t._n_bad = 0;
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
when not matched then insert ({{ cols | join(', ') }}, _batch_id, _loaded_at)
    values ({% for c in cols %}g.{{ c }}, {% endfor %}g._batch_id, g._loaded_at);
{% endif %}
