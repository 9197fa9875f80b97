{#- The records of each block of blocking key number dup_key_index of a pass (dup_table), block
    by block and in record order: the account pass compares each block's names all against all. -#}
select
    g{{ dup_key_index }} as g,
    idx
from {{ dup_table }}
where g{{ dup_key_index }} is not null
order by g{{ dup_key_index }}, idx
