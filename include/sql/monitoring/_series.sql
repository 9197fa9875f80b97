{#- Series contract (every file of monitoring/series): scope_type, scope_value, day, numerator,
    denominator (null = an additive count or amount; else the period value is sum(num) / sum(den)).
    `daily_counts`: the rows of `source` counted per `day` expression, company-wide ('all') and per
    value of each (scope_type, expression) in `breakdowns`. Used by lead_volume and unassigned_leads. -#}
{%- macro daily_counts(source, day, breakdowns) -%}
select
    'all' as scope_type,
    'all' as scope_value,
    {{ day }} as day,
    cast(count(*) as double) as numerator,
    cast(null as double) as denominator
from {{ source }}
group by {{ day }}
{%- for scope_type, value in breakdowns %}

union all

select
    '{{ scope_type }}',
    {{ value }},
    {{ day }},
    cast(count(*) as double),
    cast(null as double)
from {{ source }}
group by {{ value }}, {{ day }}
{%- endfor %}
{%- endmacro -%}
