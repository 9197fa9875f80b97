{#- Why an open opp_stale exception is not in a close_stale_opportunities plan (same cutoff as
    plan_close_stale_opportunities.sql). Null reason: the plan's rules would include it. -#}
{% import 'bulk_update/_opportunity_gaps.sql' as gaps with context %}
{% call gaps.opportunity_gaps() %}
        when o.last_touch_date >= cast(:cutoff_date as date)
            then 'stale by policy but within extra_margin_days (last activity or creation on/after the plan cutoff)'
{%- endcall %}
