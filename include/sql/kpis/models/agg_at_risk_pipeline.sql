-- depends_on: fct_open_opportunity_risk, int_user_rollup
-- grain: rollup_level, rollup_key
-- description: At-risk open pipeline per rollup level: open deals and amount, how many are at risk
-- description: (any kpis.yaml at_risk rule) and at_risk_share_of_amount = at-risk amount / open amount.
with risk as (
    select * from marts.fct_open_opportunity_risk
),

rollup as (
    select * from marts.int_user_rollup
),

aggregated as (
    select
        r.rollup_level,
        r.rollup_key,
        max(r.rollup_label) as rollup_label,
        count(*) as open_count,
        sum(coalesce(k.amount, 0)) as open_amount,
        sum(case when k.is_at_risk then 1 else 0 end) as at_risk_count,
        sum(case when k.is_at_risk then coalesce(k.amount, 0) else 0 end) as at_risk_amount,
        sum(case when k.is_past_close_date then 1 else 0 end) as past_close_date_count,
        sum(case when k.is_pushed_repeatedly then 1 else 0 end) as pushed_repeatedly_count,
        sum(case when k.is_inactive then 1 else 0 end) as inactive_count,
        sum(case when k.is_large_early_late then 1 else 0 end) as large_early_late_count
    from risk as k
    inner join rollup as r on r.user_id = k.owner_id
    group by r.rollup_level, r.rollup_key
)

select
    a.*,
    case when a.open_amount > 0 then a.at_risk_amount / a.open_amount end as at_risk_share_of_amount
from aggregated as a
