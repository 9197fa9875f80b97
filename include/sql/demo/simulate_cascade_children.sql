{#- Children of the opportunities being deleted (registered as _sim_doomed(oid)), in table order:
    Salesforce deletes a deal's line items and activities with it (salesops_demo/simulate.py).
    Jinja: sim_table, sim_parent (quoted). -#}
-- noqa: disable=CP02, RF06
select {{ sim_parent }}, Id from {{ sim_table }}
where {{ sim_parent }} in (select oid from _sim_doomed)
order by rowid
