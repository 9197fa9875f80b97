{#- New records made by the demo simulation (registered as _sim_rows; fresh ids, salesops_demo/simulate.py
    new_id). Jinja: sim_table (quoted). -#}
-- noqa: disable=CP02, RF06
insert into {{ sim_table }} by name select * from _sim_rows
