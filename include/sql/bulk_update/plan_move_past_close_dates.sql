{#- Plan: open opportunities whose CloseDate is before :past_due_before (as-of date - grace) get
    :new_close_date (end of the fiscal quarter per calendar.yaml, computed by the caller).
    With exclude_stale, deals stale beyond :stale_cutoff_date are left to close_stale_opportunities.
    StageName is a guard: a deal that moved stage (or closed) since the plan was built is skipped. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with {% include 'bulk_update/_opportunity.sql' %}

past_due as (
    {% call bu.opportunity_plan_records([
        'o.stage_name',
        'cast(o.close_date as varchar) as close_date',
    ]) %}
    where not o.closed_by_rule
        and o.close_date < cast(:past_due_before as date)
{%- if exclude_stale %}
        and o.last_touch_date >= cast(:stale_cutoff_date as date)
{%- endif %}
    {%- endcall %}
)

{{ bu.plan_rows(
    'past_due',
    [('CloseDate', 'close_date', 'cast(:new_close_date as varchar)')],
    [('StageName', 'stage_name')],
    'name',
) }}
