{#- Opportunity cohorts of the scope by created fiscal quarter, the last :quarters quarters up to the
    current one: created, won, lost, still open, and the cohort win rate. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules %}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

ctx as (
    select * from marts.kpi_context
)

select
    o.created_fiscal_quarter,
    count(*) as created_count,
    sum(o.amount_or_zero) as created_amount,
    sum(case when o.is_won then 1 else 0 end) as won_count,
    sum(case when o.is_lost and not {{ rules.is_excluded_loss('o') }}
             then 1 else 0 end) as lost_count,
    sum(case when o.is_open then 1 else 0 end) as open_count,
    sum(case when o.is_won then o.amount_or_zero else 0 end) as won_amount,
    {{ rules.win_rate_by_count(
        "sum(case when o.is_won then 1 else 0 end)",
        "sum(case when o.is_lost and not " ~ rules.is_excluded_loss('o') ~ " then 1 else 0 end)",
    ) }} as cohort_win_rate
from opportunity as o
cross join ctx
where {{ rules.in_last_quarters('o.created_fiscal_quarter_index', 'ctx') }}
  and {{ s.scope_filter('o.region', 'o.team', 'o.owner_id') }}
group by o.created_fiscal_quarter, o.created_fiscal_quarter_index
order by o.created_fiscal_quarter_index
