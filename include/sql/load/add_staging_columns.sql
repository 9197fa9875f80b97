{#- Manifest fields a staging table created by an earlier version lacks (the manifest gained them,
    e.g. Opportunity.Pricebook2Id): added as null columns, so a kept warehouse loads after an
    upgrade. Raw tables gain new columns on load (ingest/load.py). -#}
{% import 'macros.sql' as m with context %}
{%- for f in missing %}
alter table {{ obj.staging_table }} add column {{ f.column }} {{ m.sql_type(f.type) }};
{%- endfor %}
