{#- Blocks of one blocking key with more than :max_block records (its groups: key_groups.sql):
    not compared (a key that is too coarse, not a duplicate), reported with the records they hold. -#}
select
    count(*) as blocks,
    coalesce(sum(records), 0) as records
from dup_groups_{{ dup_key_index }}
where records > :max_block
