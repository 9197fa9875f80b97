{#- Pipeline created in the current fiscal quarter (marts.int_opportunity_enriched), in scope. -#}
{% import 'packs/_scope.sql' as s %}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

users as (
    select * from staging.stg_crm__user
),

ctx as (
    select * from marts.kpi_context
)

select
    ctx.current_fiscal_quarter_label as fiscal_quarter,
    count(o.opportunity_id) as pipeline_created_count,
    coalesce(sum(o.amount_or_zero), 0) as pipeline_created_amount
from ctx
left join opportunity as o on o.created_fiscal_quarter = ctx.current_fiscal_quarter_label
    and exists (select 1 from users as u where u.id = o.owner_id and {{ s.scope_filter('u.region', 'u.team', 'u.id') }})
group by ctx.current_fiscal_quarter_label
