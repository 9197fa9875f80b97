{#- Type one raw batch into a temporary table: one typed column per manifest field, plus the
    raw text for fields whose text did not parse (quarantine needs the value and the reason). -#}
{% import 'macros.sql' as m with context %}
create or replace temporary table _typed as
select
    _row_number,
    "{{ obj.key }}" as _record_id,
{%- for f in obj.fields %}
  {%- if f.api_name in present %}
    {{ m.parse('"' ~ f.api_name ~ '"', f.type) }} as {{ f.column }},
    "{{ f.api_name }}" as "_raw__{{ f.api_name }}",
  {%- else %}
    cast(null as {{ m.sql_type(f.type) }}) as {{ f.column }},
    cast(null as varchar) as "_raw__{{ f.api_name }}",
  {%- endif %}
{%- endfor %}
    _batch_id,
    _loaded_at
from {{ obj.raw_table }}
where _batch_id = :batch_id;
