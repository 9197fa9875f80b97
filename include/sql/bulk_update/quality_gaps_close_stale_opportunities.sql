{#- Why an open opp_stale exception is not in a close_stale_opportunities plan (same cutoff as
    plan_close_stale_opportunities.sql). Null reason: the plan's rules would include it. -#}
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
        when coalesce(o.last_activity_date, cast(o.created_at as date)) >= cast(:cutoff_date as date)
            then 'stale by policy but within extra_margin_days (last activity or creation on/after the plan cutoff)'
    end as reason
from open_exception as e
left join opportunity as o on o.id = e.record_id
