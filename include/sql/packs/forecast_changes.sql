{#- Open amount per forecast category of the scope's deals closing in the current fiscal quarter:
    the week_over_week start snapshot vs the as-of snapshot (marts.fct_pipeline_snapshot). -#}
{% import 'packs/_scope.sql' as s %}
with comparison as (
    select * from marts.kpi_movement_comparison where comparison_label = 'week_over_week'
),

snapshot as (
    select sn.*
    from marts.fct_pipeline_snapshot as sn
    left join staging.stg_crm__user as u on u.id = sn.owner_id
    where {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
),

category as (
    select * from marts.dim_forecast_category
),

per_day as (
    select
        coalesce(sn.forecast_category, '(none)') as forecast_category,
        sum(case when sn.snapshot_date = c.start_date then coalesce(sn.amount, 0) else 0 end) as start_amount,
        sum(case when sn.snapshot_date = c.start_date then 1 else 0 end) as start_count,
        sum(case when sn.snapshot_date = c.end_date then coalesce(sn.amount, 0) else 0 end) as end_amount,
        sum(case when sn.snapshot_date = c.end_date then 1 else 0 end) as end_count
    from comparison as c
    inner join snapshot as sn
        on sn.snapshot_date in (c.start_date, c.end_date)
        and sn.close_date between c.window_start and c.window_end
    group by coalesce(sn.forecast_category, '(none)')
),

all_categories as (
    select forecast_category, rollup_order from category where forecast_category <> 'Closed'
    union
    select forecast_category, 99 from per_day where forecast_category not in (select forecast_category from category)
)

select
    a.forecast_category,
    a.rollup_order,
    (select start_date from comparison) as start_date,
    (select end_date from comparison) as end_date,
    (select window_label from comparison) as window_label,
    coalesce(p.start_amount, 0) as start_amount,
    coalesce(p.start_count, 0) as start_count,
    coalesce(p.end_amount, 0) as end_amount,
    coalesce(p.end_count, 0) as end_count,
    coalesce(p.end_amount, 0) - coalesce(p.start_amount, 0) as change_amount
from all_categories as a
left join per_day as p on p.forecast_category = a.forecast_category
order by a.rollup_order, a.forecast_category
