{#- Won / lost deals and win rates of the scope by close fiscal quarter (marts.agg_closed_deal_metrics;
    a team = the sum of its reps' rows), the last :quarters quarters up to the current one. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules %}
with metrics as (
    select * from marts.agg_closed_deal_metrics
),

ctx as (
    select * from marts.kpi_context
),

quarters as (
    {{ rules.last_quarters('ctx') }}
),

scoped as (
    select
        w.close_fiscal_quarter,
        sum(w.won_count) as won_count,
        sum(w.lost_count) as lost_count,
        sum(w.won_amount) as won_amount,
        sum(w.lost_amount) as lost_amount
    {{ s.scoped_rollup_rows('metrics', 'w') }}
    group by w.close_fiscal_quarter
)

select
    q.fiscal_quarter_label as close_fiscal_quarter,
    coalesce(x.won_count, 0) as won_count,
    coalesce(x.lost_count, 0) as lost_count,
    coalesce(x.won_amount, 0) as won_amount,
    coalesce(x.lost_amount, 0) as lost_amount,
    {{ rules.win_rate_by_count('x.won_count', 'x.lost_count') }} as win_rate_by_count,
    {{ rules.win_rate_by_amount('x.won_amount', 'x.lost_amount') }} as win_rate_by_amount
from quarters as q
left join scoped as x on x.close_fiscal_quarter = q.fiscal_quarter_label
order by q.fiscal_quarter_index
