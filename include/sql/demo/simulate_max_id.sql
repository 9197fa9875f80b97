{#- The highest simulation-made Id of an object, deleted ones included (salesops_demo/simulate.py
    new_id). Jinja: sim_table (quoted). Bind: $1 the id pattern (e.g. '006DM%'), $2 the object. -#}
-- noqa: disable=CP02, RF06
select max(Id) from (
    select Id from {{ sim_table }} where Id like $1
    union all
    select Id from deleted_records where api_name = $2 and Id like $1
)
