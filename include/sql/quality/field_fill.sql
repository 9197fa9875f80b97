{#- Rows of one staging table and, per column, the rows that hold a value (blank text counts as
    empty): which checks the loaded data can support. -#}
select
    count(*) as n_rows
    {%- for c in fill_columns %},
    count({% if c.text %}nullif(trim({{ c.column }}), ''){% else %}{{ c.column }}{% endif %}) as {{ c.alias }}
    {%- endfor %}
from {{ table }}
