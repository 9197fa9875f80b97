{#- Ids at these positions of a deletion pool (bind: $1 the positions). Jinja: sim_pool. -#}
-- noqa: disable=CP02, RF06
select pos, Id from {{ sim_pool }} where pos in (select unnest($1))
