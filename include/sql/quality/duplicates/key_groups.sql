{#- The groups of one blocking key of a pass that can hold a pair: every value of the key (a value
    in every part) that two or more records share, with the number of records sharing it. Read
    twice - for the oversized blocks and for the blocks (blocks.sql) - so the records are grouped
    by the key once. A value of one record (most of a person key's values) makes no block: kept,
    it held 2 M leads' keys in DuckDB's memory while every key of the pass was grouped. -#}
create or replace temp table dup_groups_{{ dup_key_index }} as
select
    {{ dup_key | join(', ') }},
    count(*) as records
from dup_records
where {% for c in dup_key %}{{ c }} <> ''{{ ' and ' if not loop.last }}{% endfor %}
group by {{ dup_key | join(', ') }}
having count(*) >= 2
