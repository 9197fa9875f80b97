{#- The scope every quality finding carries (the exception queue, the scorecard and the packs slice
    by it), written once: owner_id, manager_id, team, region, segment (the order of
    salesops/quality/runner.py SCOPE_COLUMNS and of the quality.work_* tables).
    Import with {% import 'quality/_scope.sql' as scope %}.
    - scope_columns(alias): the five columns, qualified by `alias` when given (select and insert
      column lists).
    - first_scope(alias): one record's scope where a check yields several rows for it (the check
      outcomes group by record): the least value of each column.
    - owner_scoped(record, owner): the scope of a record owned by a user (accounts, contacts,
      opportunities, duplicate candidates): `record`.id as record_id, its owner_id, and the owner's
      (`owner`: the User row joined on owner_id) manager, team and region ('unknown' when the
      owner is not in User or has none); no segment.
    - lead_scoped(alias): the scope of a lead (a row of quality/_lead_base.sql `lead`): the team
      the territory rules route it to ('unrouted' when none covers it), not its owner's.
    - write_population(outcome, population_rows, by_record, created_at): a check's evaluated
      records (`population_rows`: record_id, the scope columns, created_at when it has one,
      failed) into quality.work_population a row per record when `by_record` (the scorecard
      combines them with other checks' records), else counted by scope and failed into
      quality.work_population_count. -#}
{%- set columns = ['owner_id', 'manager_id', 'team', 'region', 'segment'] -%}

{%- macro scope_columns(alias=none) -%}
{%- for c in columns %}{{ alias ~ '.' if alias }}{{ c }}{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro -%}

{%- macro first_scope(alias=none) -%}
{%- for c in columns %}min({{ alias ~ '.' if alias }}{{ c }}) as {{ c }}{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro -%}

{%- macro owner_scoped(record, owner) -%}
{{ record }}.id as record_id, {{ record }}.owner_id, {{ owner }}.manager_id,
coalesce({{ owner }}.team, 'unknown') as team, coalesce({{ owner }}.region, 'unknown') as region,
cast(null as varchar) as segment
{%- endmacro -%}

{%- macro lead_scoped(alias=none) -%}
{%- set p = alias ~ '.' if alias else '' -%}
{{ p }}record_id, {{ p }}owner_id, {{ p }}manager_id, coalesce({{ p }}expected_team, 'unrouted') as team, {{ p }}region, {{ p }}segment
{%- endmacro -%}

{%- macro write_population(outcome, population_rows, by_record, created_at='r.created_at') -%}
{%- if by_record %}
insert into quality.work_population (
    outcome, record_id, {{ scope_columns() }}, created_at, failed
)
select
    {{ outcome }} as outcome,
    r.record_id,
    {{ scope_columns('r') }},
    {{ created_at }} as created_at,
    r.failed
from (
{{ population_rows }}
) as r;
{%- else %}
insert into quality.work_population_count (
    outcome, {{ scope_columns() }}, failed, records
)
select
    {{ outcome }} as outcome,
    {{ scope_columns('r') }},
    r.failed,
    count(*) as records
from (
{{ population_rows }}
) as r
group by {{ scope_columns('r') }}, r.failed;
{%- endif %}
{%- endmacro -%}
