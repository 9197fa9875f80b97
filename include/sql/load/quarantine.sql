{#- Every field that failed to parse, and every missing required field, becomes one quarantine row.
    A row with any such problem stays out of staging; the rest of the batch loads. -#}
delete from ops.quarantine where batch_id = :batch_id;

insert into ops.quarantine (batch_id, object, record_id, row_number, field, value, reason, quarantined_at)
{%- for f in obj.fields %}
select :batch_id, '{{ obj.name }}', _record_id, _row_number, '{{ f.api_name }}', "_raw__{{ f.api_name }}",
       {%- if f.required %}
       case when nullif(trim("_raw__{{ f.api_name }}"), '') is null
            then 'missing required field {{ f.api_name }}'
            else 'cannot parse as {{ f.type }}' end,
       {%- else %}
       'cannot parse as {{ f.type }}',
       {%- endif %}
       cast(:quarantined_at as timestamp)
from _typed
where {% if f.required %}{{ f.column }} is null
   {%- else %}{{ f.column }} is null and nullif(trim("_raw__{{ f.api_name }}"), '') is not null{% endif %}
{% if not loop.last %}union all{% endif %}
{%- endfor %};
