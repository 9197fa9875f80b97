-- Evidence for a rep's Commit jump: the rep's opportunities whose forecast category changed to
-- Commit during the week (OpportunityFieldHistory), with their current amount and stage.
select
    h.opportunity_id, o.opportunity_name, o.owner_id, o.stage_name, o.amount_or_zero as amount,
    o.close_date, h.old_value as from_category, h.created_at as changed_at
from staging.stg_crm__opportunity_field_history as h
inner join marts.int_opportunity_enriched as o on o.opportunity_id = h.opportunity_id
where h.field = 'ForecastCategoryName'
  and h.new_value = 'Commit'
  and o.owner_id = :scope_value
  and cast(h.created_at as date) >= :period_start and cast(h.created_at as date) < :period_end
order by o.amount_or_zero desc, h.opportunity_id asc
