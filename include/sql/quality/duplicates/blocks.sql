{#- The duplicate matcher's blocks of one pass: one row per record (dup_records, the normalised
    keys the matcher registers as an Arrow table) with, per blocking key, the id of the block it
    is compared in - the key has a value in every part and 2..:max_block records share it - else
    null. Candidate pairs join on these ids (integers, not the strings). -#}
create or replace temp table dup_blocks as
with
{%- for key in dup_keys %}
b{{ loop.index0 }} as (
    select {{ key | join(', ') }}, row_number() over () as block_id
    from dup_records
    where {% for c in key %}{{ c }} <> ''{{ ' and ' if not loop.last }}{% endfor %}
    group by {{ key | join(', ') }}
    having count(*) between 2 and :max_block
){{ ',' if not loop.last }}
{%- endfor %}
select
    r.idx
    {%- for key in dup_keys %},
    b{{ loop.index0 }}.block_id as g{{ loop.index0 }}
    {%- endfor %}
from dup_records r
{%- for key in dup_keys %}
{%- set k = loop.index0 %}
left join b{{ k }} on {% for c in key %}b{{ k }}.{{ c }} = r.{{ c }}{{ ' and ' if not loop.last }}{% endfor %}
{%- endfor %}
