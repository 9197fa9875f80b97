{#- The span of dates in staging, so the fiscal calendar covers every date a model joins on. -#}
with dates as (
    select min(cast(created_at as date)) as lo, max(cast(created_at as date)) as hi from staging.stg_crm__opportunity
    union all
    select min(close_date), max(close_date) from staging.stg_crm__opportunity
    union all
    select min(cast(created_at as date)), max(cast(created_at as date)) from staging.stg_crm__opportunity_field_history
    union all
    select min(cast(created_at as date)), max(cast(created_at as date)) from staging.stg_crm__lead
    union all
    select min(period_start), max(period_start) from staging.stg_crm__quota
    union all
    select min(booking_date), max(booking_date) from staging.stg_finance__booking
)

select min(lo) as lo, max(hi) as hi from dates
