{#- Impact preview of a territory change: the open opportunities (bulk_update/_open_pipeline.sql)
    and the quota-period quotas whose currency has no conversion rate (_currency.sql); the preview
    is refused while any exist, as the KPI build is (kpis/unconverted_amounts.sql), instead of
    summing them at face value or leaving them out. -#}
with {% include 'bulk_update/_open_pipeline.sql' %}

no_rate as (
    select 'Opportunity' as object, id as record_id, exclusion_reason as reason
    from open_pipeline
    where is_excluded
    union all
    select 'ForecastingQuota' as object, q.id as record_id, c.exclusion_reason as reason
    from staging.stg_crm__quota as q
    inner join quota_currency as c on c.quota_id = q.id
    where c.is_excluded and q.period_start = cast(:period_start as date)
)

select * from no_rate
order by object, record_id
