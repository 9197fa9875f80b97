{#- Snapshot models keep history: only the dates in marts.kpi_snapshot_request are replaced, so
    re-running the same day replaces that day and nothing else. -#}
{% import "macros.sql" as m with context -%}
create table if not exists marts.{{ model.name }} as
select * from (
{% include model.template %}
) as empty_shape where 1 = 0;

delete from marts.{{ model.name }}
where snapshot_date in (select snapshot_date from marts.kpi_snapshot_request);

insert into marts.{{ model.name }}
{% include model.template %}
