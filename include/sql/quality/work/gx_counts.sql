{#- Rows of one GX batch that break each expectation (compared with GX's unexpected_count). -#}
select
    {%- for p in predicates %}
    sum(case when {{ p }} then 1 else 0 end) as n{{ loop.index0 }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ batch }}
