{#- Why an open exception of an opportunity plan's quality check is not in the plan: the query the
    quality_gaps_<plan> files of the opportunity plans call (import with context), giving the `when`
    clauses of their plan's own rules as the call block. Null reason: the plan's rules would include it. -#}
{% import 'bulk_update/_macros.sql' as bu %}
{%- macro opportunity_gaps() -%}
with {% include 'bulk_update/_opportunity.sql' %}

open_exception as (
    select * from {{ bu.open_exceptions(n_checks) }} as e
)

select
    e.record_id,
    e.check_id,
    case
        when o.id is null then 'not in staging (deleted since the quality run)'
        when o.closed_by_rule then 'already closed'
{{ caller() }}
    end as reason
from open_exception as e
left join opportunity as o on o.id = e.record_id
{%- endmacro -%}
