-- depends_on: int_opportunity_enriched, int_opportunity_history_summary, dim_stage, kpi_policy_list
-- grain: stage_name
-- description: Stage-to-stage conversion over all opportunities (open stages and Closed Won, in
-- description: stages.yaml order). reached = highest stage order ever reached >= this stage (from field
-- description: history and the current stage; Closed Won reaches every stage). resolved = reached and
-- description: closed, or open in a later stage now (deals still open in this stage, an earlier one
-- description: or a stage not in stages.yaml have not resolved it).
-- description: stage_to_next_rate = reached the next stage / resolved,
-- description: stage_to_won_rate = won / (reached and closed). Deals lost for an excluded loss reason
-- description: (kpis.yaml win_rate.excluded_loss_reasons) are left out.
{% import 'rules.sql' as rules -%}
with opportunity as (
    select * from marts.int_opportunity_enriched
),

history as (
    select * from marts.int_opportunity_history_summary
),

stage as (
    select * from marts.dim_stage where is_won or not is_closed
),

ordered_stage as (
    select
        s.stage_name,
        s.stage_order,
        (select min(n.stage_order) from stage as n where n.stage_order > s.stage_order) as next_stage_order
    from stage as s
),

opps as (
    select o.opportunity_id, o.is_open, o.is_closed, o.is_won, o.stage_order, h.highest_stage_order_reached
    from opportunity as o
    inner join history as h on h.opportunity_id = o.opportunity_id
    where not {{ rules.is_excluded_loss('o') }}
),

counts as (
    select
        s.stage_name,
        s.stage_order,
        sum(case when o.highest_stage_order_reached >= s.stage_order then 1 else 0 end) as reached_count,
        sum(case when o.highest_stage_order_reached >= s.stage_order
                  and (o.is_closed or o.stage_order > s.stage_order) then 1 else 0 end) as resolved_count,
        sum(case when o.highest_stage_order_reached >= s.next_stage_order then 1 else 0 end) as reached_next_count,
        sum(case when o.highest_stage_order_reached >= s.stage_order and o.is_closed then 1 else 0 end) as closed_count,
        sum(case when o.highest_stage_order_reached >= s.stage_order and o.is_won then 1 else 0 end) as won_count
    from ordered_stage as s
    cross join opps as o
    where s.next_stage_order is not null
    group by s.stage_name, s.stage_order
),

all_stages as (
    -- every open stage gets a row, also when there are no opportunities at all
    select s.stage_name, s.stage_order
    from ordered_stage as s
    where s.next_stage_order is not null
)

select
    a.stage_name,
    a.stage_order,
    coalesce(c.reached_count, 0) as reached_count,
    coalesce(c.resolved_count, 0) as resolved_count,
    coalesce(c.reached_next_count, 0) as reached_next_count,
    coalesce(c.closed_count, 0) as closed_count,
    coalesce(c.won_count, 0) as won_count,
    case when c.resolved_count > 0 then cast(c.reached_next_count as double) / c.resolved_count end as stage_to_next_rate,
    case when c.closed_count > 0 then cast(c.won_count as double) / c.closed_count end as stage_to_won_rate
from all_stages as a
left join counts as c on c.stage_name = a.stage_name
