{#- One GX check's outcome over its batch table: the rows that break one of its expectations
    (violation_sql: the rule GX evaluated; the counts are checked against GX's unexpected_count)
    and the records its expectations apply to (any expectation's row condition). `skip`: a batch
    column holding why a record cannot be evaluated (null = it can): such a record that broke no
    expectation goes to work_not_evaluated instead of the population (never passed silently).
    `violations` holds only the expectations that found rows (none: no exception rows to write).
    `unique`: the batch has one row per record id (gx_counts.sql), so each row is a record as it
    stands and the population is not grouped by record (a hash aggregate over millions of ids).
    `by_record`: the population goes to work_population a row per record (the scorecard combines
    it with other checks' records); else it is counted by scope into work_population_count. -#}
{% import 'quality/_scope.sql' as scope -%}
{%- if violations %}
insert into quality.work_exception (
    outcome, record_id, detail, related_id, {{ scope.scope_columns() }}
)
select
    {{ outcome }} as outcome,
    coalesce(cast(v.record_id as varchar), 'None') as record_id,
    v.detail,
    cast(null as varchar) as related_id,
    {%- for c in scope_columns if c.name != 'created_at' %}
    min(v.{{ c.name }}) as {{ c.name }}{{ "," if not loop.last }}
    {%- endfor %}
from (
    {%- for p in violations %}
    select
        b.record_id,
        {{ p.detail }} as detail,
        {%- for c in scope_columns if c.name != 'created_at' %}
        {{ c.expr }} as {{ c.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ batch }} as b where {{ p.predicate }}
    {{- " union all" if not loop.last }}
    {%- endfor %}
) as v
group by coalesce(cast(v.record_id as varchar), 'None'), v.detail;
{%- endif %}

{%- set population_rows %}
select
    coalesce(cast(b.record_id as varchar), 'None') as record_id,
    {%- for c in scope_columns %}
    {{ c.expr if unique else 'min(' ~ c.expr ~ ')' }} as {{ c.name }},
    {%- endfor %}
    {{ 'e.record_id is not null' if unique else 'max(case when e.record_id is not null then 1 else 0 end) = 1' }} as failed
from {{ batch }} as b
left join (  -- noqa: ST05
    select distinct record_id from quality.work_exception where outcome = {{ outcome }}
) as e on e.record_id = coalesce(cast(b.record_id as varchar), 'None')
where {{ population }}
{%- if skip %}
    and (b.{{ skip }} is null or e.record_id is not null)
{%- endif %}
{{- "\ngroup by coalesce(cast(b.record_id as varchar), 'None')" if not unique }}
{%- endset %}
{{ scope.write_population(outcome, population_rows, by_record) }}
{%- if skip %}

insert into quality.work_not_evaluated (
    outcome, record_id, reason, {{ scope.scope_columns() }}
)
select
    {{ outcome }} as outcome,
    coalesce(cast(b.record_id as varchar), 'None') as record_id,
    {{ 'b.' ~ skip if unique else 'min(b.' ~ skip ~ ')' }} as reason,
    {%- for c in scope_columns if c.name != 'created_at' %}
    {{ c.expr if unique else 'min(' ~ c.expr ~ ')' }} as {{ c.name }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ batch }} as b
where ({{ population }})
    and b.{{ skip }} is not null
    and coalesce(cast(b.record_id as varchar), 'None') not in (
        select record_id from quality.work_exception where outcome = {{ outcome }} and record_id is not null
    )
{{- "\ngroup by coalesce(cast(b.record_id as varchar), 'None')" if not unique }};
{%- endif %}
