{#- One SQL check's outcome: its evaluated records (scope of the first row, failed when any row
    failed) and its offending rows (one per record and detail). `skip`: the check's rows carry
    not_evaluated_reason; a record with one that did not fail is not evaluated (work_not_evaluated).
    The check's query runs once, into a temporary table the inserts read (the checks join
    millions of records: running one two or three times cost as much again). `by_record`: the
    evaluated records go to work_population a row per record (the scorecard combines them with
    other checks' records); else they are counted by scope into work_population_count. -#}
{% import 'quality/_scope.sql' as scope -%}
create or replace temporary table quality_work_check as
select * from (
{% include check %}
) as c;

{%- set population_rows %}
select
    cast(c.record_id as varchar) as record_id,
    {{ scope.first_scope('c') }},
    max(case when c.failed then 1 else 0 end) = 1 as failed
from quality_work_check as c
{%- if skip %}
where c.failed or c.not_evaluated_reason is null
{%- endif %}
group by cast(c.record_id as varchar)
{%- endset %}
{{ scope.write_population(outcome, population_rows, by_record, created_at='cast(null as timestamp)') }}
{%- if skip %}

insert into quality.work_not_evaluated (
    outcome, record_id, reason, {{ scope.scope_columns() }}
)
select
    {{ outcome }} as outcome,
    cast(c.record_id as varchar) as record_id,
    min(c.not_evaluated_reason) as reason,
    {{ scope.first_scope('c') }}
from quality_work_check as c
where not c.failed and c.not_evaluated_reason is not null
group by cast(c.record_id as varchar);
{%- endif %}

insert into quality.work_exception (
    outcome, record_id, detail, related_id, {{ scope.scope_columns() }}
)
select
    {{ outcome }} as outcome,
    cast(c.record_id as varchar) as record_id,
    coalesce(c.detail, '') as detail,
    min(c.related_id) as related_id,
    {{ scope.first_scope('c') }}
from quality_work_check as c
where c.failed
group by cast(c.record_id as varchar), coalesce(c.detail, '');

drop table quality_work_check
