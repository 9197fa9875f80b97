{#- Coverage of the scope for the current and next fiscal quarter (marts.agg_pipeline_coverage).
    A team is the sum of its reps' rows; its quota only counts users whose role is in
    kpis.yaml coverage.rollup_quota_roles, as the mart does above the rep level. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules %}
with coverage as (
    select * from marts.agg_pipeline_coverage
),

ctx as (
    select * from marts.kpi_context
),

quota_roles as (
    select value as user_role from marts.kpi_policy_list where list_name = 'quota_rollup_role'
),

quarters as (
    {{ rules.current_and_next_quarters('ctx') }}
),

scoped as (
    select
        c.quarter_relative,
        sum(case when :scope_type <> 'team' or {{ rules.carries_quota('u.user_role', 'quota_roles') }}
                 then c.quota_amount else 0 end) as quota_amount,
        sum(c.open_pipeline_amount) as open_pipeline_amount,
        sum(c.open_pipeline_count) as open_pipeline_count,
        sum(c.closed_won_amount) as closed_won_amount
    {{ s.scoped_rollup_rows('coverage', 'c') }}
    group by c.quarter_relative
)

select
    q.quarter_relative,
    q.fiscal_quarter,
    coalesce(x.quota_amount, 0) as quota_amount,
    coalesce(x.open_pipeline_amount, 0) as open_pipeline_amount,
    coalesce(x.open_pipeline_count, 0) as open_pipeline_count,
    coalesce(x.closed_won_amount, 0) as closed_won_amount,
    {{ rules.coverage_ratio('x.open_pipeline_amount', 'x.quota_amount') }} as coverage_ratio,
    {{ rules.coverage_of_remaining_ratio('x.open_pipeline_amount', 'x.quota_amount', 'x.closed_won_amount') }}
        as coverage_of_remaining_ratio,
    ctx.coverage_target_ratio
from quarters as q
cross join ctx
left join scoped as x on x.quarter_relative = q.quarter_relative
order by q.quarter_order
