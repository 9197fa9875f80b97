{#- Records the demo simulation deleted (registered as _sim_deletes: api_name, Id, deleted_at).
    Jinja: sim_table (quoted). Bind: $1 the object. -#}
-- noqa: disable=CP02, RF06
delete from {{ sim_table }} where Id in (select Id from _sim_deletes where api_name = $1)
