{#- Every column of the records at these rowids (bind: $1 the rowids, read in this run's transaction,
    which has not changed the table yet): the few leads a conversion or a duplicate copies
    (salesops_demo/simulate.py). Jinja: sim_table (quoted). -#}
-- noqa: disable=CP02, RF06
select rowid as _sim_rowid, * from {{ sim_table }} where rowid in (select unnest($1))
