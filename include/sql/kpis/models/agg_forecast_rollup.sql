-- depends_on: int_opportunity_enriched, int_user_rollup, kpi_context, dim_forecast_category
-- grain: quarter_relative, rollup_level, rollup_key
-- description: Forecast rollup for the current and next fiscal quarter per rollup level: amount per
-- description: forecast category (stages.yaml forecast_categories) of opportunities closing in the
-- description: quarter. Closed won deals count as 'Closed' whatever their category field says; closed
-- description: lost deals are left out; open deals count under their ForecastCategoryName.
-- description: weighted_pipeline_amount = sum(amount x probability / 100) over open deals.
-- description: commit_forecast = closed + commit; best_case_forecast = closed + commit + best case.
{% import 'rules.sql' as rules -%}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

rollup as (
    select * from marts.int_user_rollup
),

ctx as (
    select * from marts.kpi_context
),

category as (
    select * from marts.dim_forecast_category
),

quarters as (
    {{ rules.current_and_next_quarters('ctx') }}
),

deals as (
    select
        qt.quarter_relative,
        qt.fiscal_quarter,
        o.owner_id,
        o.amount_or_zero,
        case when o.is_open then o.weighted_amount else 0 end as weighted_amount,
        -- Closed counts closed-won deals only: an open deal whose category field says Closed
        -- is not booked (it lands in uncategorized_amount)
        case
            when o.is_won then 'Closed'
            when o.forecast_category = 'Closed' then null
            else o.forecast_category
        end as rollup_category,
        o.is_open
    from quarters as qt
    inner join opportunity as o on o.close_fiscal_quarter_index = qt.fiscal_quarter_index
    where o.is_open or o.is_won
),

tagged as (
    select d.*, c.column_stem
    from deals as d
    left join category as c on c.forecast_category = d.rollup_category
)

select
    t.quarter_relative,
    max(t.fiscal_quarter) as fiscal_quarter,
    r.rollup_level,
    r.rollup_key,
    max(r.rollup_label) as rollup_label,
{%- for stem in forecast_categories %}
    sum(case when t.column_stem = '{{ stem }}' then t.amount_or_zero else 0 end) as {{ stem }}_amount,
    sum(case when t.column_stem = '{{ stem }}' then 1 else 0 end) as {{ stem }}_count,
{%- endfor %}
    sum(case when t.column_stem is null then t.amount_or_zero else 0 end) as uncategorized_amount,
    sum(t.weighted_amount) as weighted_pipeline_amount,
    sum(case when t.column_stem in ('closed', 'commit') then t.amount_or_zero else 0 end) as commit_forecast_amount,
    sum(case when t.column_stem in ('closed', 'commit', 'best_case') then t.amount_or_zero else 0 end) as best_case_forecast_amount
from tagged as t
inner join rollup as r on r.user_id = t.owner_id
group by t.quarter_relative, r.rollup_level, r.rollup_key
