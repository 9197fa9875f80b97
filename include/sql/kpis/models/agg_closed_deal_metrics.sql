-- depends_on: int_opportunity_enriched, int_user_rollup, kpi_policy_list
-- grain: close_fiscal_quarter, rollup_level, rollup_key
-- description: Closed deals by the fiscal quarter of the close date, per rollup level.
-- description: win_rate_by_count = won / (won + lost); win_rate_by_amount = won $ / (won $ + lost $).
-- description: Both denominators leave out Closed Lost deals whose loss reason is in kpis.yaml
-- description: win_rate.excluded_loss_reasons (duplicates, merged, unqualified: excluded_lost_count)
-- description: and deleted opportunities (gone from staging); open deals are not in either.
-- description: avg_sales_cycle_days = mean days from created date to close date over won deals,
-- description: avg_selling_price = mean amount of won deals that have an amount.
{% import 'rules.sql' as rules -%}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

rollup as (
    select * from marts.int_user_rollup
),

closed as (
    select
        o.*,
        {{ rules.is_excluded_loss('o') }} as is_excluded
    from opportunity as o
    where o.is_closed
),

aggregated as (
    select
        coalesce(c.close_fiscal_quarter, '(none)') as close_fiscal_quarter,
        r.rollup_level,
        r.rollup_key,
        max(r.rollup_label) as rollup_label,
        sum(case when c.is_won then 1 else 0 end) as won_count,
        sum(case when c.is_lost and not c.is_excluded then 1 else 0 end) as lost_count,
        sum(case when c.is_excluded then 1 else 0 end) as excluded_lost_count,
        sum(case when c.is_won then c.amount_or_zero else 0 end) as won_amount,
        sum(case when c.is_lost and not c.is_excluded then c.amount_or_zero else 0 end) as lost_amount,
        avg(case when c.is_won then {{ m.datediff_days('c.created_date', 'c.close_date') }} end) as avg_sales_cycle_days,
        avg(case when c.is_won then c.amount end) as avg_selling_price
    from closed as c
    inner join rollup as r on r.user_id = c.owner_id
    group by coalesce(c.close_fiscal_quarter, '(none)'), r.rollup_level, r.rollup_key
)

select
    a.*,
    a.won_count + a.lost_count as win_rate_by_count_denominator,
    a.won_amount + a.lost_amount as win_rate_by_amount_denominator,
    {{ rules.win_rate_by_count('a.won_count', 'a.lost_count') }} as win_rate_by_count,
    {{ rules.win_rate_by_amount('a.won_amount', 'a.lost_amount') }} as win_rate_by_amount
from aggregated as a
