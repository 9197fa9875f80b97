{#- Snapshot models keep history: only the dates in marts.kpi_snapshot_request are replaced, so
    re-running the same day replaces that day and nothing else. The table exists already
    (materialize_snapshot_table.sql, committed before this script). -#}
{% import "macros.sql" as m with context -%}
delete from marts.{{ model.name }}
where snapshot_date in (select snapshot_date from marts.kpi_snapshot_request);

insert into marts.{{ model.name }}
{% include model.template %}
