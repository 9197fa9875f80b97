-- depends_on: dim_stage, dim_fiscal_calendar, int_opportunity_currency
-- grain: opportunity_id
-- description: One row per opportunity in staging (deleted ones are already gone) with its owner's
-- description: manager/region/segment/team, its stage's order and policy flags (stages.yaml), the
-- description: fiscal periods of its close and created dates (calendar.yaml) and its weighted
-- description: amount (amount x probability / 100: Salesforce stores probability as 0-100). A source
-- description: without Probability gets the stage's policy probability (stages.yaml), and
-- description: probability_source says which was used (source | stage_policy | none).
-- description: amount is in the corporate currency (int_opportunity_currency: dated rate by close
-- description: date, else CurrencyType); amount_original and currency_iso_code keep the record's own.
-- description: Opportunities whose currency has no rate are not here (agg_currency_conversion counts them).
{% import 'rules.sql' as rules -%}
with opportunity as (
    select * from staging.stg_crm__opportunity
),

users as (
    select * from staging.stg_crm__user
),

currency as (
    select * from marts.int_opportunity_currency
),

stage as (
    select * from marts.dim_stage
),

calendar as (
    select * from marts.dim_fiscal_calendar
),

joined as (
    select
        o.id as opportunity_id,
        o.name as opportunity_name,
        o.account_id,
        coalesce(o.owner_id, '(none)') as owner_id,
        u.name as owner_name,
        u.user_role as owner_role,
        u.manager_id,
        u.region,
        u.segment,
        u.team,
        o.stage_name,
        s.stage_order,
        -- IsClosed/IsWon are Salesforce's own flags; the stage policy fills them when missing.
        {{ rules.is_closed('o.is_closed', 's.is_closed') }} as is_closed,
        {{ rules.is_won('o.is_won', 's.is_won') }} as is_won,
        c.amount_corporate as amount,
        coalesce(c.amount_corporate, 0) as amount_or_zero,
        o.amount as amount_original,
        c.currency_iso_code,
        c.conversion_rate,
        c.rate_source,
        coalesce(o.probability, s.default_probability) as probability,
        case
            when o.probability is not null then 'source'
            when s.default_probability is not null then 'stage_policy'
            else 'none'
        end as probability_source,
        {{ rules.weighted_amount('coalesce(c.amount_corporate, 0)', 'coalesce(o.probability, s.default_probability, 0)') }} as weighted_amount,
        o.close_date,
        o.forecast_category,
        o.type as opportunity_type,
        o.lead_source,
        o.loss_reason,
        o.next_step,
        o.last_activity_date,
        o.created_at,
        cast(o.created_at as date) as created_date
    from opportunity as o
    inner join currency as c on c.opportunity_id = o.id and not c.is_excluded
    left join users as u on u.id = o.owner_id
    left join stage as s on s.stage_name = o.stage_name
)

select
    j.*,
    not j.is_closed as is_open,
    j.is_closed and not j.is_won as is_lost,
    cc.fiscal_year_label as close_fiscal_year,
    cc.fiscal_quarter_label as close_fiscal_quarter,
    cc.fiscal_month_label as close_fiscal_month,
    cc.fiscal_quarter_index as close_fiscal_quarter_index,
    cc.fiscal_quarter_end as close_fiscal_quarter_end,
    cr.fiscal_year_label as created_fiscal_year,
    cr.fiscal_quarter_label as created_fiscal_quarter,
    cr.fiscal_month_label as created_fiscal_month,
    cr.fiscal_quarter_index as created_fiscal_quarter_index
from joined as j
left join calendar as cc on cc.date_day = j.close_date
left join calendar as cr on cr.date_day = j.created_date
