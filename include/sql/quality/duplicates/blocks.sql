{#- The duplicate matcher's blocks of one pass (dup_table): one row per record (dup_records, the
    normalised keys the matcher registers as an Arrow table) with, per blocking key, the id of the
    block it is compared in - the key has a value in every part and 2..:max_block records share it
    (the key's groups: key_groups.sql) - else null; a record in no block is left out. Candidate
    pairs join on these ids (integers, not the strings). -#}
create or replace temp table {{ dup_table }} as
with
{%- for key in dup_keys %}
b{{ loop.index0 }} as (
    select {{ key | join(', ') }}, cast(row_number() over () as integer) as block_id
    from dup_groups_{{ loop.index0 }}
    where records between 2 and :max_block
){{ ',' if not loop.last }}
{%- endfor %}
select
    r.idx
    {%- for key in dup_keys %},
    b{{ loop.index0 }}.block_id as g{{ loop.index0 }}
    {%- endfor %}
from dup_records as r
{%- for key in dup_keys %}
{%- set k = loop.index0 %}
left join b{{ k }} on {% for c in key %}b{{ k }}.{{ c }} = r.{{ c }}{{ ' and ' if not loop.last }}{% endfor %}
{%- endfor %}
where {% for key in dup_keys %}b{{ loop.index0 }}.block_id is not null{{ ' or ' if not loop.last }}{% endfor %}
