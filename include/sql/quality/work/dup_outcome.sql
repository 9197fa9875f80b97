{#- The duplicate check's outcome: the duplicates the matcher found (quality.work_dup_found,
    written by the run) with their scope, and its evaluated records (the matcher's input, with
    scope and CreatedDate; failed = a duplicate of another record): a row per record when
    `by_record` (duplicates per 1,000 new records filter by CreatedDate), else counted by scope
    and failed into work_population_count. -#}
{% import 'quality/_scope.sql' as scope -%}
insert into quality.work_exception (
    outcome, record_id, detail, related_id, {{ scope.scope_columns() }}
)
select
    {{ outcome }} as outcome,
    f.record_id,
    f.detail,
    f.related_id,
    {{ scope.scope_columns('b') }}
from quality.work_dup_found as f
left join (  -- noqa: ST05
    select
        cast(record_id as varchar) as record_id,
        {{ scope.first_scope() }}
    from {{ batch }}
    -- only the duplicates' scope is needed: grouping the whole input (2 M leads) cost a scan more
    where cast(record_id as varchar) in (select d.record_id from quality.work_dup_found as d)
    group by cast(record_id as varchar)
) as b on b.record_id = f.record_id;

{%- set population_rows %}
select
    cast(b.record_id as varchar) as record_id,
    {{ scope.first_scope('b') }},
    min(b.created_at) as created_at,
    max(case when e.record_id is not null then 1 else 0 end) = 1 as failed
from {{ batch }} as b
left join (  -- noqa: ST05
    select distinct record_id from quality.work_exception where outcome = {{ outcome }}
) as e on e.record_id = cast(b.record_id as varchar)
group by cast(b.record_id as varchar)
{%- endset %}
{{ scope.write_population(outcome, population_rows, by_record) }}
