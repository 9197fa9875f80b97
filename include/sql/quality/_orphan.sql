{#- An orphan reference, written once for opp_orphan_account, opp_orphan_owner and
    contact_orphan_account: every record of `records` (alias o: record_id, the scope columns and the
    reference column `ref`) whose reference is set is evaluated, and fails when no row of `target`
    has that id; the detail is the dangling id. An empty reference is not an orphan (the required
    field checks report it). -#}
{% import 'quality/_scope.sql' as scope -%}
{%- macro orphan_rows(records, ref, target) -%}
select
    o.record_id, {{ scope.scope_columns('o') }},
    t.id is null as failed,
    case when t.id is null then o.{{ ref }} else '' end as detail,
    cast(null as varchar) as related_id
from {{ records }} as o
left join {{ target }} as t on t.id = o.{{ ref }}
where o.{{ ref }} is not null
{%- endmacro -%}
