{#- Why an open exception of an opportunity plan's quality check is not in the plan: the query the
    quality_gaps_<plan> files of the opportunity plans call (import with context), giving the `when`
    clauses of their plan's own rules as the call block. Null reason: the plan's rules would include it.
    `ctes`: the CTE file the plan itself reads (it defines `opportunity`; default the opportunities
    with closed_by_rule, bulk_update/_opportunity.sql); `closed_rule`: a closed opportunity is left
    alone by the plan ('already closed'); `joins`: more joins on `o` the call block reads. -#}
{% import 'bulk_update/_macros.sql' as bu %}
{%- macro opportunity_gaps(ctes='bulk_update/_opportunity.sql', closed_rule=true, joins='') -%}
with {% include ctes %}

open_exception as (
    select * from {{ bu.open_exceptions(n_checks) }} as e
)

select
    e.record_id,
    e.check_id,
    case
        when o.id is null then 'not in staging (deleted since the quality run)'
{%- if closed_rule %}
        when o.closed_by_rule then 'already closed'
{%- endif %}
{{ caller() }}
    end as reason
from open_exception as e
left join opportunity as o on o.id = e.record_id
{%- if joins %}
{{ joins }}
{%- endif %}
{%- endmacro -%}
