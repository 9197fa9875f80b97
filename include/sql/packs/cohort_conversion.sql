{#- Opportunity cohorts of the scope by created fiscal quarter, the last :quarters quarters up to the
    current one: created, won, lost, still open, and the cohort win rate. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules %}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

ctx as (
    select * from marts.kpi_context
),

excluded_reason as (
    select value as loss_reason from marts.kpi_policy_list where list_name = 'excluded_loss_reason'
)

select
    o.created_fiscal_quarter,
    count(*) as created_count,
    sum(o.amount_or_zero) as created_amount,
    sum(case when o.is_won then 1 else 0 end) as won_count,
    sum(case when o.is_lost and not coalesce(o.loss_reason in (select loss_reason from excluded_reason), false)
             then 1 else 0 end) as lost_count,
    sum(case when o.is_open then 1 else 0 end) as open_count,
    sum(case when o.is_won then o.amount_or_zero else 0 end) as won_amount,
    case when sum(case when o.is_won then 1 when o.is_lost and not coalesce(o.loss_reason in (select loss_reason from excluded_reason), false) then 1 else 0 end) > 0
         then cast(sum(case when o.is_won then 1 else 0 end) as double)
              / sum(case when o.is_won then 1 when o.is_lost and not coalesce(o.loss_reason in (select loss_reason from excluded_reason), false) then 1 else 0 end)
    end as cohort_win_rate
from opportunity as o
cross join ctx
where {{ rules.in_last_quarters('o.created_fiscal_quarter_index', 'ctx') }}
  and {{ s.scope_filter('o.region', 'o.team', 'o.owner_id') }}
group by o.created_fiscal_quarter, o.created_fiscal_quarter_index
order by o.created_fiscal_quarter_index
