{#- Rep rows of marts.agg_pipeline_coverage for one quarter (:quarter_relative), users in scope:
    quota-carrying reps (kpis.yaml coverage.rollup_quota_roles, rules.sql carries_quota: an empty
    list means every role, as coverage.sql sums a team's quota) and anyone with open pipeline. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules %}
with coverage as (
    select * from marts.agg_pipeline_coverage
),

users as (
    select * from staging.stg_crm__user
),

quota_roles as (
    select value as user_role from marts.kpi_policy_list where list_name = 'quota_rollup_role'
)

select
    c.rollup_key as owner_id,
    c.rollup_label as owner_name,
    u.team,
    u.region,
    c.fiscal_quarter,
    c.quota_amount,
    c.open_pipeline_amount,
    c.open_pipeline_count,
    c.closed_won_amount,
    c.coverage_ratio,
    c.coverage_target_ratio
from coverage as c
inner join users as u on u.id = c.rollup_key
where c.rollup_level = 'rep'
  and c.quarter_relative = :quarter_relative
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
  and ({{ rules.carries_quota('u.user_role', 'quota_roles') }} or c.open_pipeline_amount > 0)
order by c.coverage_ratio nulls first, c.rollup_label
