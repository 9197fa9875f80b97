{#- Every field that failed to parse, and every missing required field, becomes one quarantine row.
    A row with any such problem stays out of staging; the rest of the batch loads. Only the
    failing rows (_bad, typed and as landed: type_batch.sql) are examined field by field.
    The reason is specific: the source's own note when it gave one (_notes: a CSV export names
    file, line, column, value and the map's format; a row it rejected whole carries
    "REJECTED: <why>" in its change stamp), else the value and the form the API text must have.
    severity: 'error' (the row stays out of staging) or 'warning': a field with on_bad_value 'warn'
    (objects.yaml) whose value did not parse, on a row with no error: the row loads with the field
    empty, and the reason says so. -#}
{%- set warn_fields = obj.fields | selectattr('on_bad_value', 'equalto', 'warn') | selectattr('api_name', 'in', present) | list %}
{%- set expected = {
    'timestamp': 'an ISO 8601 date-time such as 2026-11-01T10:00:00Z',
    'date': 'a date as YYYY-MM-DD',
    'int': 'a whole number such as 42',
    'decimal': 'a number such as 1234.5 (no thousands separator, no currency)',
    'double': 'a number such as 0.25',
    'bool': 'true or false',
} %}
delete from ops.quarantine where batch_id = :batch_id;

insert into ops.quarantine (batch_id, object, record_id, row_number, field, value, reason, quarantined_at, severity)
with candidates as (select * from {{ '_flagged' if warn_fields else '_bad' }})
{%- for f in obj.fields if f.api_name in present or f.required %}
{%- set warns = f in warn_fields %}
select :batch_id, '{{ obj.name }}', c._record_id, c._row_number, '{{ f.api_name }}',
       {% if f.api_name in present %}c."_raw__{{ f.api_name }}"{% else %}cast(null as varchar){% endif %},
       {%- if f.api_name in present %}
       case
           when c."_raw__{{ f.api_name }}" like 'REJECTED: %' then substr(c."_raw__{{ f.api_name }}", 11)
           when n.note_reason is not null then n.note_reason
           {%- if f.required %}
           when nullif(trim(c."_raw__{{ f.api_name }}"), '') is null
               then 'missing required field {{ f.api_name }} (batch row ' || cast(c._row_number as varchar) || ')'
           {%- endif %}
           else 'cannot parse ''' || substr(c."_raw__{{ f.api_name }}", 1, 80) || ''' as {{ f.type }}: expected {{ expected.get(f.type, f.type) }}'
       end
       {%- if warns %}
       || case when c._n_bad = 0 then '; the record is loaded with {{ f.api_name }} empty (optional field, objects.yaml on_bad_value: warn)' else '' end
       {%- endif %},
       {%- else %}
       'missing required field {{ f.api_name }}: the source sent no such column',
       {%- endif %}
       cast(:quarantined_at as timestamp),
       {% if warns %}case when c._n_bad = 0 then 'warning' else 'error' end{% else %}'error'{% endif %}
from candidates c
{%- if f.api_name in present %}
left join _notes n on n.note_row = c._row_number and n.note_field = '{{ f.api_name }}'  -- noqa: ST11
{%- endif %}
where {% if f.required %}c.{{ f.column }} is null
   {%- else %}c.{{ f.column }} is null and nullif(trim(c."_raw__{{ f.api_name }}"), '') is not null{% endif %}
{%- if not loop.last %}
union all{% endif %}
{%- endfor %};
