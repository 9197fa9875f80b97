{#- Stage aging of the scope's open opportunities, read from marts.agg_stage_aging: the company,
    region or rep rows directly, a team from the sum of its reps' rows (the mean from the day totals,
    which equals the mart's mean of a single row). -#}
{% import 'packs/_scope.sql' as s %}
select
    a.stage_name,
    max(a.stage_order) as stage_order,
    sum(a.open_count) as open_count,
    sum(a.open_amount) as open_amount,
    case when :scope_type = 'team' then sum(a.days_in_current_stage_total) / nullif(sum(a.aged_count), 0)
         else max(a.avg_days_in_current_stage) end as avg_days_in_current_stage,
    max(a.max_days_in_current_stage) as max_days_in_current_stage
from marts.agg_stage_aging as a
left join staging.stg_crm__user as u on u.id = a.rollup_key and a.rollup_level = 'rep'
where {{ s.rollup_filter('a', 'u') }}
group by a.stage_name
order by max(a.stage_order) nulls last, a.stage_name
