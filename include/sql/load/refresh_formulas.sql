{#- Formula refresh: overwrite staged formula columns with the values just re-read for every
    record (formulas change without moving SystemModstamp, so the merge never sees them). -#}
{% import 'macros.sql' as m with context %}
{%- if formula_fields %}
update {{ obj.staging_table }} as s set
{%- for f in formula_fields %}
    {{ f.column }} = {{ m.parse('r."' ~ f.api_name ~ '"', f.type) }}{{ "," if not loop.last }}
{%- endfor %}
from {{ relation }} as r
where r."{{ obj.key }}" = s.{{ obj.key_column }};
{%- endif %}
