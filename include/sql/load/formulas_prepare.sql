{#- Formula refresh, prepared (temporary table only; on Snowflake before the load's transaction):
    the formula values just re-read for every record, as text, as landed. -#}
create or replace temporary table _formulas as
select {% for n in names %}cast("{{ n }}" as varchar) as "{{ n }}"{{ ", " if not loop.last }}{% endfor %}
from {{ relation }};
