{#- Won / lost deals and win rates of the scope by close fiscal quarter (marts.agg_closed_deal_metrics;
    a team = the sum of its reps' rows), the last :quarters quarters up to the current one. -#}
{% import 'packs/_scope.sql' as s %}
with metrics as (
    select * from marts.agg_closed_deal_metrics
),

users as (
    select * from staging.stg_crm__user
),

ctx as (
    select * from marts.kpi_context
),

quarters as (
    select distinct fiscal_quarter_label, fiscal_quarter_index
    from marts.dim_fiscal_calendar
    cross join ctx
    where fiscal_quarter_index between ctx.current_fiscal_quarter_index - :quarters + 1 and ctx.current_fiscal_quarter_index
),

scoped as (
    select
        w.close_fiscal_quarter,
        sum(w.won_count) as won_count,
        sum(w.lost_count) as lost_count,
        sum(w.won_amount) as won_amount,
        sum(w.lost_amount) as lost_amount
    from metrics as w
    left join users as u on u.id = w.rollup_key and w.rollup_level = 'rep'
    where {{ s.rollup_filter('w', 'u') }}
    group by w.close_fiscal_quarter
)

select
    q.fiscal_quarter_label as close_fiscal_quarter,
    coalesce(x.won_count, 0) as won_count,
    coalesce(x.lost_count, 0) as lost_count,
    coalesce(x.won_amount, 0) as won_amount,
    coalesce(x.lost_amount, 0) as lost_amount,
    case when x.won_count + x.lost_count > 0 then cast(x.won_count as double) / (x.won_count + x.lost_count) end as win_rate_by_count,
    case when x.won_amount + x.lost_amount > 0 then x.won_amount / (x.won_amount + x.lost_amount) end as win_rate_by_amount
from quarters as q
left join scoped as x on x.close_fiscal_quarter = q.fiscal_quarter_label
order by q.fiscal_quarter_index
