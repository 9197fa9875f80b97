{#- Every field that failed to parse, and every missing required field, becomes one quarantine row.
    A row with any such problem stays out of staging; the rest of the batch loads. Only the
    candidate rows (_bad: some typed value is null) are examined field by field. -#}
delete from ops.quarantine where batch_id = :batch_id;

insert into ops.quarantine (batch_id, object, record_id, row_number, field, value, reason, quarantined_at)
with candidates as (
    select t.*, {% for f in obj.fields if f.api_name in present %}r."{{ f.api_name }}" as "_raw__{{ f.api_name }}"{% if not loop.last %}, {% endif %}{% endfor %}
    from _typed t
    join _bad b on b._row_number = t._row_number
    join _raw_batch r on r._row_number = t._row_number
)
{%- for f in obj.fields if f.api_name in present or f.required %}
select :batch_id, '{{ obj.name }}', _record_id, _row_number, '{{ f.api_name }}',
       {% if f.api_name in present %}"_raw__{{ f.api_name }}"{% else %}cast(null as varchar){% endif %},
       {%- if f.required and f.api_name in present %}
       case when nullif(trim("_raw__{{ f.api_name }}"), '') is null
            then 'missing required field {{ f.api_name }}'
            else 'cannot parse as {{ f.type }}' end,
       {%- elif f.required %}
       'missing required field {{ f.api_name }}',
       {%- else %}
       'cannot parse as {{ f.type }}',
       {%- endif %}
       cast(:quarantined_at as timestamp)
from candidates
where {% if f.required %}{{ f.column }} is null
   {%- else %}{{ f.column }} is null and nullif(trim("_raw__{{ f.api_name }}"), '') is not null{% endif %}
{%- if not loop.last %}
union all{% endif %}
{%- endfor %};
