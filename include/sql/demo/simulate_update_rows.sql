{#- Write back the cells the demo simulation changed (registered as _sim_rows: Id, SystemModstamp and
    per changed column its value and a w_<n> flag saying which rows it changed); the other cells
    stay as they are (salesops_demo/simulate.py write). Jinja: sim_table (quoted), sim_columns (name quoted,
    type, flag). -#}
-- noqa: disable=CP02, RF06
update {{ sim_table }} as t set
{%- for c in sim_columns %}
    {{ c.name }} = case when u.{{ c.flag }} then cast(u.{{ c.name }} as {{ c.type }}) else t.{{ c.name }} end,
{%- endfor %}
    SystemModstamp = u.SystemModstamp
from _sim_rows as u
where t.Id = u.Id
