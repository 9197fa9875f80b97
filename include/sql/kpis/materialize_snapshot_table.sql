{#- A snapshot model's table, created empty with its select's columns when it does not exist yet.
    Run and committed on its own, before materialize_snapshot.sql (see kpis.runner.render_model:
    DuckDB 2.0 hides rows inserted into a table created empty in the same transaction from
    filtered scans of the same instance). -#}
{% import "macros.sql" as m with context -%}
create table if not exists marts.{{ model.name }} as
select * from (
{% include model.template %}
) as empty_shape where 1 = 0
