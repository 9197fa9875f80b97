{#- The simulation's temp tables, dropped when the run ends (salesops_demo/simulate.py). -#}
-- noqa: disable=CP02, RF06
drop table if exists _sim_contact_pool;
drop table if exists _sim_task_pool
