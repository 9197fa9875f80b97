-- depends_on: int_opportunity_enriched, int_user_rollup
-- grain: close_fiscal_quarter, rollup_level, rollup_key
-- description: Open pipeline (opportunities not closed, as extracted) by the fiscal quarter of the
-- description: close date, per rollup level (rep, manager, region, segment, company). Past-due
-- description: opportunities stay in the quarter of their (past) close date; no close date = '(none)'.
with opportunity as (
    select * from marts.int_opportunity_enriched
),

rollup as (
    select * from marts.int_user_rollup
)

select
    coalesce(o.close_fiscal_quarter, '(none)') as close_fiscal_quarter,
    r.rollup_level,
    r.rollup_key,
    max(r.rollup_label) as rollup_label,
    count(*) as open_pipeline_count,
    sum(o.amount_or_zero) as open_pipeline_amount,
    sum(o.weighted_amount) as weighted_open_pipeline_amount
from opportunity as o
inner join rollup as r on r.user_id = o.owner_id
where o.is_open
group by coalesce(o.close_fiscal_quarter, '(none)'), r.rollup_level, r.rollup_key
