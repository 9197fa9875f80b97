{#- Merge the good rows of one batch into staging (merge_prepare.sql built _good and _upsert):
    latest version per key wins, a version older than or equal to what staging holds changes
    nothing, and fields the source did not send (schema drift) keep their staged values.
    Fast path for the first load of an object (empty staging, one version per key): plain insert. -#}
{%- set cols = obj.fields | map(attribute='column') | list %}
{% if staging_empty and not has_duplicates %}
insert into {{ obj.staging_table }} ({{ cols | join(', ') }}, _batch_id, _loaded_at)
select {{ cols | join(', ') }}, cast(:batch_id as varchar), cast(:loaded_at as timestamp)
from _typed t
where t._n_bad = 0;
{% else %}
{#- A changed record's staged row is replaced (deleted, then inserted whole from _upsert) rather
    than updated in place: DuckDB's MERGE/UPDATE of a third of a 1 M-row, 23-column table took
    226-326 s where delete + insert takes seconds (issue 17). -#}
delete from {{ obj.staging_table }}
where {{ obj.key_column }} in (select u.{{ obj.key_column }} from _upsert u where u._matched);

insert into {{ obj.staging_table }} ({{ cols | join(', ') }}, _batch_id, _loaded_at)
select {{ cols | join(', ') }}, _batch_id, _loaded_at
from _upsert;
{% endif %}
