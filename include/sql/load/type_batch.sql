{#- Type one staged batch (_raw_batch, see land_batch.sql) into a temporary view: one typed column per manifest field, plus _n_bad,
    the number of fields that failed (a value that did not parse, or a missing required field).
    _raw__<field>: the field's text as landed. _bad holds the rows with any failure, typed and as
    landed; quarantine.sql explains them field by field.
    A field with on_bad_value 'warn' (objects.yaml: optional, read by no metric) does not count in
    _n_bad: a value of it that does not parse is null in the typed row, which loads, and counts in
    _n_warn; _flagged holds the rows with a failure or a warning for quarantine.sql. -#}
{% import 'macros.sql' as m with context %}
{%- set warn_fields = obj.fields | selectattr('on_bad_value', 'equalto', 'warn') | selectattr('api_name', 'in', present) | list %}
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
  {%- elif f.type not in ('id', 'string') and f.on_bad_value != 'warn' %}
    + case when {{ m.parse('"' ~ f.api_name ~ '"', f.type) }} is null and nullif(trim("{{ f.api_name }}"), '') is not null then 1 else 0 end
  {%- endif %}
{%- endfor %}
{%- for f in obj.fields if f.required and f.api_name not in present %}
    + 1
{%- endfor %} as _n_bad
{%- if warn_fields %},
    0
  {%- for f in warn_fields %}
    + case when {{ m.parse('"' ~ f.api_name ~ '"', f.type) }} is null and nullif(trim("{{ f.api_name }}"), '') is not null then 1 else 0 end
  {%- endfor %} as _n_warn
{%- endif %}
{%- for f in obj.fields if f.api_name in present %},
    "{{ f.api_name }}" as "_raw__{{ f.api_name }}"
{%- endfor %}
from _raw_batch;

{#- The failing rows whole (typed and as landed; few): quarantine.sql reads only these (and the
    warned rows, when the batch has a 'warn' field: _flagged, one scan of the batch for both). -#}
{%- if warn_fields %}
create or replace temporary table _flagged as
select * from _typed where _n_bad > 0 or _n_warn > 0;

create or replace temporary table _bad as
select * from _flagged where _n_bad > 0;
{%- else %}
create or replace temporary table _bad as
select * from _typed where _n_bad > 0;
{%- endif %}
