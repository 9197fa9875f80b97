-- depends_on: int_opportunity_enriched, int_user_rollup, int_quota_currency, kpi_context, kpi_policy_list, dim_fiscal_calendar
-- grain: quarter_relative, rollup_level, rollup_key
-- description: Pipeline coverage for the current and the next fiscal quarter (of the as-of date)
-- description: per rollup level: open pipeline closing in the quarter / quota for the quarter
-- description: (stg_crm__quota by the quarter its period_start falls in, QuotaAmount in the corporate
-- description: currency via int_quota_currency). At the rep level every
-- description: user's own quota counts; above it only quotas of users whose role is in
-- description: kpis.yaml coverage.rollup_quota_roles (a manager's own quota is the team's sum).
-- description: coverage_of_remaining_ratio = open pipeline / (quota - closed won in the quarter).
-- description: Ratios are null when the denominator is not positive.
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

quota_roles as (
    select value as user_role from marts.kpi_policy_list where list_name = 'quota_rollup_role'
),

calendar as (
    select * from marts.dim_fiscal_calendar
),

quarters as (
    {{ rules.current_and_next_quarters('ctx') }}
),

quota as (
    select coalesce(q.owner_id, '(none)') as owner_id, c.fiscal_quarter_index, sum(coalesce(qc.amount_corporate, 0)) as quota_amount
    from staging.stg_crm__quota as q
    -- QuotaAmount in the corporate currency (a quota without a rate stops the build before this)
    inner join marts.int_quota_currency as qc on qc.quota_id = q.id
    inner join calendar as c on c.date_day = q.period_start
    group by coalesce(q.owner_id, '(none)'), c.fiscal_quarter_index
),

quota_rolled as (
    select qt.quarter_relative, r.rollup_level, r.rollup_key, max(r.rollup_label) as rollup_label,
           sum(q.quota_amount) as quota_amount
    from quarters as qt
    inner join quota as q on q.fiscal_quarter_index = qt.fiscal_quarter_index
    inner join rollup as r on r.user_id = q.owner_id
    where r.rollup_level = 'rep' or {{ rules.carries_quota('r.user_role', 'quota_roles') }}
    group by qt.quarter_relative, r.rollup_level, r.rollup_key
),

pipeline_rolled as (
    select
        qt.quarter_relative,
        r.rollup_level,
        r.rollup_key,
        max(r.rollup_label) as rollup_label,
        sum(case when o.is_open then o.amount_or_zero else 0 end) as open_pipeline_amount,
        sum(case when o.is_open then 1 else 0 end) as open_pipeline_count,
        sum(case when o.is_won then o.amount_or_zero else 0 end) as closed_won_amount
    from quarters as qt
    inner join opportunity as o on o.close_fiscal_quarter_index = qt.fiscal_quarter_index
    inner join rollup as r on r.user_id = o.owner_id
    group by qt.quarter_relative, r.rollup_level, r.rollup_key
),

keys as (
    select quarter_relative, rollup_level, rollup_key, rollup_label from quota_rolled
    union
    select quarter_relative, rollup_level, rollup_key, rollup_label from pipeline_rolled
),

combined as (
    select
        k.quarter_relative,
        qt.fiscal_quarter,
        k.rollup_level,
        k.rollup_key,
        k.rollup_label,
        coalesce(q.quota_amount, 0) as quota_amount,
        coalesce(p.open_pipeline_amount, 0) as open_pipeline_amount,
        coalesce(p.open_pipeline_count, 0) as open_pipeline_count,
        coalesce(p.closed_won_amount, 0) as closed_won_amount
    from keys as k
    inner join quarters as qt on qt.quarter_relative = k.quarter_relative
    left join quota_rolled as q
        on q.quarter_relative = k.quarter_relative and q.rollup_level = k.rollup_level and q.rollup_key = k.rollup_key
    left join pipeline_rolled as p
        on p.quarter_relative = k.quarter_relative and p.rollup_level = k.rollup_level and p.rollup_key = k.rollup_key
)

select
    c.*,
    c.quota_amount - c.closed_won_amount as remaining_quota_amount,
    {{ rules.coverage_ratio('c.open_pipeline_amount', 'c.quota_amount') }} as coverage_ratio,
    {{ rules.coverage_of_remaining_ratio('c.open_pipeline_amount', 'c.quota_amount', 'c.closed_won_amount') }}
        as coverage_of_remaining_ratio,
    ctx.coverage_target_ratio
from combined as c
cross join ctx
