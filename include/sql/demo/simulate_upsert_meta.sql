{#- One meta key (clock, next name indexes) after a simulation run. Bind: $1 key, $2 value. -#}
-- noqa: disable=CP02, RF06
insert or replace into meta values ($1, $2)
