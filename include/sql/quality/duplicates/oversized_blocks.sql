{#- Blocks of one blocking key with more than :max_block records: not compared (a key that is
    too coarse, not a duplicate), reported with the records they hold. -#}
select
    count(*) as blocks,
    coalesce(sum(records), 0) as records
from (
    select count(*) as records
    from dup_records
    where {% for c in dup_key %}{{ c }} <> ''{{ ' and ' if not loop.last }}{% endfor %}
    group by {{ dup_key | join(', ') }}
    having count(*) > :max_block
) as big
