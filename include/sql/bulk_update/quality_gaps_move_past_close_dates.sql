{#- Why an open opp_past_close_date exception is not in a move_past_close_dates plan (same
    parameters as plan_move_past_close_dates.sql). Null reason: the plan's rules would include it. -#}
{% import 'bulk_update/_macros.sql' as bu %}
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
        when o.close_date is null or o.close_date >= cast(:past_due_before as date) then 'close date not past due'
{%- if exclude_stale %}
        when coalesce(o.last_activity_date, cast(o.created_at as date)) < cast(:stale_cutoff_date as date)
            then 'stale: left to close_stale_opportunities (exclude_stale)'
{%- endif %}
    end as reason
from open_exception as e
left join opportunity as o on o.id = e.record_id
