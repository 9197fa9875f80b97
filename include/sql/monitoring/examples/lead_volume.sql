-- Evidence for a lead-volume drop: leads per source in the period beside the weekly average of the
-- training weeks before it (a sync that drops leads shows as sources below their usual volume).
with lead as (
    select * from marts.int_lead_enriched
),

in_period as (
    select coalesce(lead_source, '(none)') as lead_source, count(*) as leads_in_period
    from lead
    where cast(created_at as date) >= :period_start and cast(created_at as date) < :period_end
    group by coalesce(lead_source, '(none)')
),

before as (
    select coalesce(lead_source, '(none)') as lead_source, count(*) / (:training_days / 7.0) as usual_per_week
    from lead
    where cast(created_at as date) >= :training_start and cast(created_at as date) < :period_start
    group by coalesce(lead_source, '(none)')
)

select
    coalesce(p.lead_source, b.lead_source) as lead_source,
    coalesce(p.leads_in_period, 0) as leads_in_period,
    round(coalesce(b.usual_per_week, 0), 1) as usual_per_week
from in_period as p
full outer join before as b on b.lead_source = p.lead_source
where :scope_type <> 'lead_source' or coalesce(p.lead_source, b.lead_source) = :scope_value
order by usual_per_week desc
