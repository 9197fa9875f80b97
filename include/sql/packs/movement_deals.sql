{#- The opportunities behind one comparison's movement (:comparison), in scope, that moved
    (everything but 'unchanged'), largest change first. -#}
{% import 'packs/_scope.sql' as s %}
select
    m.opportunity_id,
    o.name as opportunity_name,
    u.name as owner_name,
    u.team,
    u.region,
    m.movement_category,
    m.start_stage_name,
    m.end_stage_name,
    m.start_close_date,
    m.end_close_date,
    m.close_date_moved_on,
    m.start_pipeline_amount,
    m.end_pipeline_amount,
    m.amount_change
from marts.fct_pipeline_movement as m
left join staging.stg_crm__user as u on u.id = m.owner_id
left join staging.stg_crm__opportunity as o on o.id = m.opportunity_id
where m.comparison_label = :comparison
  and m.movement_category <> 'unchanged'
  and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}
order by abs(m.amount_change) desc, m.opportunity_id
