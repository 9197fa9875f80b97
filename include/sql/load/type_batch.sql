{#- Type one staged batch (_raw_batch, see land_batch.sql) into a temporary view: one typed column per manifest field, plus _n_bad,
    the number of fields that failed (a value that did not parse, or a missing required field).
    _raw__<field>: the field's text as landed. _bad holds the rows with any failure, typed and as
    landed; quarantine.sql explains them field by field. -#}
{% import 'macros.sql' as m with context %}
create or replace temporary view _typed as
select
    _row_number,
    "{{ obj.key }}" as _record_id,
{%- for f in obj.fields %}
  {%- if f.api_name in present %}
    {{ m.parse('"' ~ f.api_name ~ '"', f.type) }} as {{ f.column }},
  {%- else %}
    cast(null as {{ m.sql_type(f.type) }}) as {{ f.column }},
  {%- endif %}
{%- endfor %}
    0
{%- for f in obj.fields if f.api_name in present %}
  {%- if f.required %}
    + case when {{ m.parse('"' ~ f.api_name ~ '"', f.type) }} is null then 1 else 0 end
  {%- elif f.type not in ('id', 'string') %}
    + case when {{ m.parse('"' ~ f.api_name ~ '"', f.type) }} is null and nullif(trim("{{ f.api_name }}"), '') is not null then 1 else 0 end
  {%- endif %}
{%- endfor %}
{%- for f in obj.fields if f.required and f.api_name not in present %}
    + 1
{%- endfor %} as _n_bad
{%- for f in obj.fields if f.api_name in present %},
    "{{ f.api_name }}" as "_raw__{{ f.api_name }}"
{%- endfor %}
from _raw_batch;

{#- The failing rows whole (typed and as landed; few): quarantine.sql reads only these. -#}
create or replace temporary table _bad as
select * from _typed where _n_bad > 0;
