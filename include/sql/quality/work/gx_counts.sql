{#- Rows of one GX batch that break each expectation (compared with GX's unexpected_count), and
    (count_repeated) how many rows repeat another row's record id (0: one row per record, so the
    outcomes need not group the batch by record: gx_outcome.sql `unique`). -#}
select
    {%- for p in predicates %}
    sum(case when {{ p }} then 1 else 0 end) as n{{ loop.index0 }}{{ "," if not loop.last or count_repeated }}
    {%- endfor %}
    {%- if count_repeated %}
    count(*) - count(distinct coalesce(cast(record_id as varchar), 'None')) as repeated
    {%- endif %}
from {{ batch }}
