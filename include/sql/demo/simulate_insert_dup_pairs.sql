{#- Duplicate leads the demo simulation injected (registered as _sim_dups), for the ground truth. -#}
-- noqa: disable=CP02, RF06
insert into dup_pairs by name select * from _sim_dups
