{#- Size of a deletion pool (salesops_demo/simulate.py). Jinja: sim_pool (temp table name). -#}
-- noqa: disable=CP02, RF06
select count(*) from {{ sim_pool }}
