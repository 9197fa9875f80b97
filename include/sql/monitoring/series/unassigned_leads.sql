-- Unassigned leads: leads created each day that were still unassigned when their routing SLA ran
-- out (marts.fct_lead_speed_to_lead sla_status = unassigned_breached), overall and by segment.
{% import 'monitoring/_series.sql' as series %}
with speed as (
    select * from marts.fct_lead_speed_to_lead
    where sla_status = 'unassigned_breached'
      and cast(created_at as date) >= :from_date and cast(created_at as date) < :as_of_date
)

{{ series.daily_counts('speed', 'cast(created_at as date)', [('segment', 'segment')]) }}
