-- depends_on:
-- grain: opportunity_id, field, change_seq
-- description: Validity intervals of the tracked opportunity fields (StageName, Amount, CloseDate,
-- description: ForecastCategoryName) from OpportunityFieldHistory. Interval 0 holds the value before
-- description: the first recorded change; interval n the value set by change n. The value at the end
-- description: of day d is the interval with valid_from_date <= d < valid_to_date (sentinel dates
-- description: 1900-01-01 / 9999-12-31 instead of nulls, so the as-of join is a plain range join).
with history as (
    select * from staging.stg_crm__opportunity_field_history
    where field in ('StageName', 'Amount', 'CloseDate', 'ForecastCategoryName')
      and opportunity_id is not null
),

ordered as (
    select
        opportunity_id,
        field,
        id as history_id,
        created_at,
        cast(created_at as date) as change_date,
        old_value,
        new_value,
        row_number() over (partition by opportunity_id, field order by created_at, id) as change_seq,
        lead(cast(created_at as date)) over (partition by opportunity_id, field order by created_at, id) as next_change_date
    from history
),

intervals as (
    select
        opportunity_id,
        field,
        0 as change_seq,
        cast(null as varchar) as history_id,
        cast(null as timestamp) as changed_at,
        cast('1900-01-01' as date) as valid_from_date,
        change_date as valid_to_date,
        old_value as value
    from ordered
    where change_seq = 1

    union all

    select
        opportunity_id,
        field,
        change_seq,
        history_id,
        created_at as changed_at,
        change_date as valid_from_date,
        coalesce(next_change_date, cast('9999-12-31' as date)) as valid_to_date,
        new_value as value
    from ordered
)

select * from intervals
