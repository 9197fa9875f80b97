{#- Open opportunities of the scope closing in the current fiscal quarter with an open exception for
    a missing required field or next step (quality.exception_queue): fix before the forecast call. -#}
{% import 'packs/_scope.sql' as s %}
with queue as (
    select * from quality.exception_queue
    where status = 'open' and check_id in ('opp_missing_required_field', 'opp_missing_next_step')
),

opportunity as (
    select * from marts.int_opportunity_enriched
),

ctx as (
    select * from marts.kpi_context
)

select
    o.opportunity_id,
    o.opportunity_name,
    o.owner_name,
    o.team,
    o.region,
    o.stage_name,
    o.amount,
    o.close_date,
    o.forecast_category,
    q.check_id,
    q.detail,
    q.first_seen
from queue as q
inner join opportunity as o on o.opportunity_id = q.record_id
cross join ctx
where o.is_open
  and o.close_fiscal_quarter = ctx.current_fiscal_quarter_label
  and {{ s.scope_filter('o.region', 'o.team', 'o.owner_id') }}
order by o.close_date asc, coalesce(o.amount, 0) desc, o.opportunity_id asc, q.check_id asc
