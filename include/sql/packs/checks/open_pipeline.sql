{#- Warehouse total for the pack check: open amount/count closing in one quarter (:quarter_relative),
    straight from staging (IsClosed, else the stage policy), in scope.  Amounts in the corporate currency
    (int_opportunity_currency); deals whose currency has no rate are left out, as in the marts. -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules -%}
with ctx as (
    select
        case when :quarter_relative = 'current' then current_fiscal_quarter_start else next_fiscal_quarter_start end as q_start,
        case when :quarter_relative = 'current' then current_fiscal_quarter_end else next_fiscal_quarter_end end as q_end
    from marts.kpi_context
)

select
    count(*) as open_pipeline_count,
    coalesce(sum(coalesce(cur.amount_corporate, 0)), 0) as open_pipeline_amount
from staging.stg_crm__opportunity as o
inner join marts.int_opportunity_currency as cur on cur.opportunity_id = o.id and not cur.is_excluded
left join staging.stg_crm__user as u on u.id = o.owner_id
left join marts.dim_stage as st on st.stage_name = o.stage_name
cross join ctx
where not {{ rules.is_closed('o.is_closed', 'st.is_closed') }}
  and o.close_date between ctx.q_start and ctx.q_end
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
