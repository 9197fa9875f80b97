{#- Table sizes the demo simulation's delete rates apply to (salesops_demo/simulate.py). -#}
-- noqa: disable=CP02, RF06
select (select count(*) from "Contact") as contacts, (select count(*) from "Task") as tasks
