-- depends_on: kpi_snapshot_request, dim_stage, int_opportunity_field_intervals, int_opportunity_currency, dim_currency
-- grain: snapshot_date, opportunity_id
-- materialized: snapshot
-- description: Daily snapshot of every open opportunity (stage, amount, close date, forecast
-- description: category, owner) as of the end of snapshot_date. 'live' rows copy staging as
-- description: extracted; 'history' rows rebuild the day from OpportunityFieldHistory (stage,
-- description: amount, close date, forecast category as of that day; owner and type as now,
-- description: probability = the rebuilt stage's default, since history does not track it).
-- description: Opportunities deleted in the CRM are gone from staging and from rebuilt days.
-- description: amount is in the corporate currency: live rows as int_opportunity_currency converts
-- description: them; rebuilt rows by the same conversion (rules.sql corporate_amounts) at the dated
-- description: rate of the rebuilt close date (else CurrencyType), as Salesforce converts
-- description: OpportunityHistory. A row whose amount has no rate is left out.
{% import 'rules.sql' as rules -%}
with request as (
    select * from marts.kpi_snapshot_request
),

stage as (
    select * from marts.dim_stage
),

intervals as (
    select * from marts.int_opportunity_field_intervals
),

conversion as (
    select * from marts.int_opportunity_currency
),

currency as (
    select * from marts.dim_currency
),

live as (
    select
        r.snapshot_date,
        o.id as opportunity_id,
        o.owner_id,
        o.account_id,
        o.stage_name,
        c.amount_corporate as amount,
        o.probability,
        o.close_date,
        o.forecast_category,
        o.type as opportunity_type,
        cast(o.created_at as date) as created_date,
        {{ rules.is_closed('o.is_closed', 's.is_closed') }} as is_closed,
        r.snapshot_source
    from request as r
    cross join staging.stg_crm__opportunity as o
    inner join conversion as c on c.opportunity_id = o.id and not c.is_excluded
    left join stage as s on s.stage_name = o.stage_name
    where r.snapshot_source = 'live'
      and cast(o.created_at as date) <= r.snapshot_date
),

history_days as (
    select snapshot_date, snapshot_source from request where snapshot_source = 'history'
),

existing as (
    select
        d.snapshot_date,
        d.snapshot_source,
        o.id,
        o.owner_id,
        o.account_id,
        o.stage_name,
        o.amount,
        o.probability,
        o.close_date,
        o.forecast_category,
        o.type,
        o.created_at,
        o.is_closed,
        o.currency_iso_code
    from history_days as d
    inner join staging.stg_crm__opportunity as o on cast(o.created_at as date) <= d.snapshot_date
),

field_at_day as (
    select d.snapshot_date, i.opportunity_id, i.field, i.value
    from history_days as d
    inner join intervals as i
        on i.valid_from_date <= d.snapshot_date
        and i.valid_to_date > d.snapshot_date
),

pivoted as (
    -- has_* tells "history says the value was empty" apart from "no history for this field".
    select
        snapshot_date,
        opportunity_id,
        max(case when field = 'StageName' then 1 else 0 end) as has_stage,
        max(case when field = 'StageName' then value end) as stage_name,
        max(case when field = 'Amount' then 1 else 0 end) as has_amount,
        max(case when field = 'Amount' then value end) as amount_text,
        max(case when field = 'CloseDate' then 1 else 0 end) as has_close_date,
        max(case when field = 'CloseDate' then value end) as close_date_text,
        max(case when field = 'ForecastCategoryName' then 1 else 0 end) as has_forecast_category,
        max(case when field = 'ForecastCategoryName' then value end) as forecast_category
    from field_at_day
    group by snapshot_date, opportunity_id
),

rebuilt as (
    select
        e.snapshot_date,
        e.id as opportunity_id,
        e.owner_id,
        e.account_id,
        case when p.has_stage = 1 then p.stage_name else e.stage_name end as stage_name,
        case when p.has_amount = 1 then try_cast(p.amount_text as decimal(18, 2)) else e.amount end as amount,
        case when p.has_close_date = 1 then try_cast(p.close_date_text as date) else e.close_date end as close_date,
        case when p.has_forecast_category = 1 then p.forecast_category else e.forecast_category end as forecast_category,
        e.type as opportunity_type,
        cast(e.created_at as date) as created_date,
        e.currency_iso_code,
        coalesce(p.has_stage, 0) as has_stage_history,
        e.stage_name as current_stage_name,
        e.probability as current_probability,
        e.is_closed as current_is_closed,
        e.snapshot_source,
        cast(e.snapshot_date as varchar) || '|' || e.id as conversion_key
    from existing as e
    left join pivoted as p on p.snapshot_date = e.snapshot_date and p.opportunity_id = e.id
),

-- Only the deals open that day are kept: they are left out before their amounts are converted
-- (most deals of a rebuilt day are closed).
rebuilt_open as (
    select
        r.*,
        -- Without stage history the opportunity was in its current stage: keep its probability.
        case when r.has_stage_history = 1 then s.default_probability else r.current_probability end as probability
    from rebuilt as r
    left join stage as s on s.stage_name = r.stage_name
    where not (
        case when r.has_stage_history = 1 then coalesce(s.is_closed, false)
             else {{ rules.is_closed('r.current_is_closed', 's.is_closed') }} end
    )
),

rebuilt_record as (
    -- one record per rebuilt day and deal: its rate day is the rebuilt close date
    select conversion_key as record_id, amount, close_date as rate_day, currency_iso_code
    from rebuilt_open
),

rebuilt_conversion as (
    {{ rules.corporate_amounts('rebuilt_record', 'currency', 'the rebuilt CloseDate') | indent(4) }}
),

rebuilt_typed as (
    select
        r.snapshot_date,
        r.opportunity_id,
        r.owner_id,
        r.account_id,
        r.stage_name,
        c.amount_corporate as amount,
        r.probability,
        r.close_date,
        r.forecast_category,
        r.opportunity_type,
        r.created_date,
        false as is_closed,
        r.snapshot_source
    from rebuilt_open as r
    inner join rebuilt_conversion as c on c.record_id = r.conversion_key
    where not c.is_excluded
),

unioned as (
    select * from live
    union all
    select * from rebuilt_typed
)

select
    u.snapshot_date,
    u.opportunity_id,
    u.owner_id,
    u.account_id,
    u.stage_name,
    s.stage_order,
    u.amount,
    u.probability,
    u.close_date,
    u.forecast_category,
    u.opportunity_type,
    u.created_date,
    u.snapshot_source
from unioned as u
left join stage as s on s.stage_name = u.stage_name
where not u.is_closed
