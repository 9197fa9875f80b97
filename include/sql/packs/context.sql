{#- The as-of of the data a pack reports: the KPI build's context and the latest successful load. -#}
with ctx as (
    select * from marts.kpi_context
),

loads as (
    select
        as_of as load_as_of,
        load_finished_at
    from ops.v_as_of
)

select
    ctx.as_of_date,
    ctx.as_of_ts,
    ctx.current_fiscal_quarter_label,
    ctx.current_fiscal_quarter_start,
    ctx.current_fiscal_quarter_end,
    ctx.next_fiscal_quarter_label,
    ctx.next_fiscal_quarter_start,
    ctx.next_fiscal_quarter_end,
    ctx.coverage_target_ratio,
    ctx.history_start,
    ctx.field_history_start,
    cal.fiscal_month_label,
    cal.fiscal_month_start,
    loads.load_as_of,
    loads.load_finished_at
from ctx
cross join loads
left join marts.dim_fiscal_calendar as cal on cal.date_day = ctx.as_of_date
