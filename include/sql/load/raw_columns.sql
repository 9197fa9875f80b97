{#- The columns a raw table has now (schema drift adds source fields the manifest lacks). -#}
{% import 'macros.sql' as m with context %}
select column_name
from information_schema.columns
where table_schema = {{ m.catalog_name(':s') }} and table_name = {{ m.catalog_name(':t') }}
