{#- Why an open opp_past_close_date exception is not in a move_past_close_dates plan (same
    parameters as plan_move_past_close_dates.sql). Null reason: the plan's rules would include it. -#}
{% import 'bulk_update/_opportunity_gaps.sql' as gaps with context %}
{% call gaps.opportunity_gaps() %}
        when o.close_date is null or o.close_date >= cast(:past_due_before as date) then 'close date not past due'
{%- if exclude_stale %}
        when o.last_touch_date < cast(:stale_cutoff_date as date)
            then 'stale: left to close_stale_opportunities (exclude_stale)'
{%- endif %}
{%- endcall %}
