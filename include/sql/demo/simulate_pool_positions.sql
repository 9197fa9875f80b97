{#- Positions in a deletion pool of these ids (registered as _sim_ids(Id)). Jinja: sim_pool. -#}
-- noqa: disable=CP02, RF06
select pos from {{ sim_pool }} where Id in (select Id from _sim_ids)
