{#- Candidate pairs (i < j) of blocking key number dup_key_index of a pass (dup_table): records
    in the same block, minus pairs an earlier key of the pass already produced, so every pair of
    the pass comes once without a distinct over all of them (streamed in record batches).
    dup_matched_only: only pairs whose two records are both in dup_matched (the records some pass
    matched: only those pairs can keep two clusters apart). -#}
with b as (
    select * from {{ dup_table }}
    where g{{ dup_key_index }} is not null
    {%- if dup_matched_only %}
      and idx in (select m.idx from dup_matched m)
    {%- endif %}
)
select a.idx as i, c.idx as j
from b a
join b c on a.g{{ dup_key_index }} = c.g{{ dup_key_index }} and a.idx < c.idx
{%- for p in range(dup_key_index) %}
{{ 'where' if loop.first else '  and' }} coalesce(a.g{{ p }} <> c.g{{ p }}, true)
{%- endfor %}
