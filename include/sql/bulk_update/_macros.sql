{#- Helpers for plan SQL. Values always arrive as bind parameters; Jinja only lays out the
    placeholders (salesops.bulk_update.plan.values_params builds the matching parameter dict). -#}
{%- macro values_table(name, cols, n) -%}
(select * from (values
{%- for i in range(n) %}
    ({% for c in cols %}:{{ name }}_{{ i }}_{{ c }}{{ ", " if not loop.last }}{% endfor %}){{ "," if not loop.last }}
{%- endfor %}
) as {{ name }}_v ({{ cols | join(", ") }}))
{%- endmacro -%}

{#- values_table, or an empty relation with the same (varchar) columns when there are no rows
    (a VALUES list cannot be empty). -#}
{%- macro values_table_or_empty(name, cols, n) -%}
{%- if n > 0 -%}
{{ values_table(name, cols, n) }}
{%- else -%}
(select {% for c in cols %}cast(null as varchar) as {{ c }}{{ ", " if not loop.last }}{% endfor %} where 1 = 0)
{%- endif -%}
{%- endmacro -%}

{#- Open exceptions of the plan type's quality checks from the given quality run: one row per
    (record, check). Binds :quality_object (API name), :quality_run_id and quality_check_<i>_check_id. -#}
{%- macro open_exceptions(n_checks) -%}
(select distinct q.record_id, q.check_id
from quality.exception_queue as q
inner join {{ values_table('quality_check', ['check_id'], n_checks) }} as qc on qc.check_id = q.check_id
where q.status = 'open'
    and q.object = :quality_object
    and q.last_run_id = :quality_run_id)
{%- endmacro -%}

{#- The rows of a plan from the CTE `source` (one row per record): one row per (record, field).
    `changes` = [(field, before, after)] are the writes; `guards` = [(field, column)] are re-checked
    before the write and never written (before = after: a record whose guard changed since the plan
    was built is skipped). Columns: [object,] record_id, field, role, before_value, after_value,
    record_name, owner_id, region. -#}
{%- macro plan_rows(source, changes, guards, record_name, owner_id='owner_id', region='region', object=none) -%}
{%- for field, before, after in changes %}
{%- if not loop.first %}
union all
{%- endif %}
select {% if object %}'{{ object }}' as object, {% endif %}id as record_id, '{{ field }}' as field, 'change' as role,
    {{ before }} as before_value, {{ after }} as after_value, {{ record_name }} as record_name,
    {{ owner_id }} as owner_id, {{ region }} as region
from {{ source }}
{%- endfor %}
{%- for field, column in guards %}
union all
select {% if object %}'{{ object }}', {% endif %}id, '{{ field }}', 'guard', {{ column }}, {{ column }}, {{ record_name }}, {{ owner_id }}, {{ region }}
from {{ source }}
{%- endfor %}
{%- endmacro -%}

{#- Users named by a reference table `ref` (alias o; column user_ref = a user id or email, the
    validation has checked each names exactly one user): `cols` of the reference and the user's id
    as user_id. Needs the CTE `users`. -#}
{%- macro resolve_users(ref, cols) -%}
select
        {%- for c in cols %}
        {{ c }},
        {%- endfor %}
        u.id as user_id
    from {{ ref }} as o
    inner join users as u on u.id = o.user_ref or lower(u.email) = lower(o.user_ref)
{%- endmacro -%}

{#- An opportunity plan's records: from the CTE `opportunity` (alias o) its id, name and owner, the
    `columns` the plan changes or guards, and the region a plan row carries: the owner's
    (User.Region; null when the owner is not in staging). The call block adds joins and the where
    clause. Used by the close_stale_opportunities, move_past_close_dates and fix_forecast_category
    plans. -#}
{%- macro opportunity_plan_records(columns) -%}
select
        o.id,
        o.name,
        o.owner_id,
        {%- for c in columns %}
        {{ c }},
        {%- endfor %}
        u.region
    from opportunity as o
    left join staging.stg_crm__user as u on u.id = o.owner_id
{{ caller() }}
{%- endmacro -%}

{#- An open lead, what a lead plan may touch or count: its Status is one of the open statuses and it
    is not converted. open_status_cte(n_statuses) defines the CTE `open_status` (the statuses as bind
    parameters :open_status_0 ...); is_open_lead(l) is the condition on the lead alias `l`. -#}
{% macro open_status_cte(n_statuses) -%}
open_status as (
    select * from {{ values_table('open_status', ['status'], n_statuses) }}
)
{%- endmacro %}

{% macro is_open_lead(l) -%}
{{ l }}.status in (select os.status from open_status as os) and not coalesce({{ l }}.is_converted, false)
{%- endmacro %}
