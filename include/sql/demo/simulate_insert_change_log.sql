{#- The demo simulation's changes in order (registered as _sim_log). -#}
-- noqa: disable=CP02, RF06
insert into change_log by name select * from _sim_log
