-- depends_on: int_opportunity_enriched, int_user_rollup
-- grain: created_fiscal_quarter, rollup_level, rollup_key
-- description: Pipeline created: opportunities by the fiscal quarter of their created date, whatever
-- description: their status now, at their current amount (missing amount = 0), per rollup level.
with opportunity as (
    select * from marts.int_opportunity_enriched
),

rollup as (
    select * from marts.int_user_rollup
)

select
    coalesce(o.created_fiscal_quarter, '(none)') as created_fiscal_quarter,
    r.rollup_level,
    r.rollup_key,
    max(r.rollup_label) as rollup_label,
    count(*) as pipeline_created_count,
    sum(o.amount_or_zero) as pipeline_created_amount
from opportunity as o
inner join rollup as r on r.user_id = o.owner_id
group by coalesce(o.created_fiscal_quarter, '(none)'), r.rollup_level, r.rollup_key
