{#- Plan: open opportunities whose last activity (or, with none, creation) is before :cutoff_date
    (as-of date - stale threshold - extra margin) -> Closed Lost with a loss reason, the closed
    stage's forecast category and probability. LastActivityDate is a guard: new activity since the
    plan was built means the deal is alive and the record is skipped. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with {% include 'bulk_update/_opportunity.sql' %}

stale as (
    {% call bu.opportunity_plan_records([
        'o.stage_name',
        'o.forecast_category',
        'cast(o.probability as varchar) as probability',
        'o.loss_reason',
        'cast(o.last_activity_date as varchar) as last_activity_date',
    ]) %}
    where not o.closed_by_rule
        and o.last_touch_date < cast(:cutoff_date as date)
    {%- endcall %}
)

{{ bu.plan_rows(
    'stale',
    [
        ('StageName', 'stage_name', 'cast(:target_stage as varchar)'),
        ('ForecastCategoryName', 'forecast_category', 'cast(:target_category as varchar)'),
        ('Probability', 'probability', 'cast(:target_probability as varchar)'),
        ('Loss_Reason__c', 'loss_reason', 'cast(:loss_reason as varchar)'),
    ],
    [('LastActivityDate', 'last_activity_date')],
    'name',
) }}
