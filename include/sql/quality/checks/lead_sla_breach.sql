{#- Assigned lead whose Assigned_At__c - CreatedDate exceeds the segment's SLA hours. -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_lead_base.sql' %}
select
    {{ scope.lead_scoped() }},
    datediff('second', created_at, assigned_at) > sla_hours * 3600 as failed,
    case when datediff('second', created_at, assigned_at) > sla_hours * 3600
         then cast(round(datediff('second', created_at, assigned_at) / 3600.0, 1) as varchar)
              || 'h > ' || cast(sla_hours as varchar) || 'h'
         else '' end as detail,
    cast(null as varchar) as related_id
from lead
where owner_id is not null
  and assigned_at is not null
  and created_at is not null
  and sla_hours is not null
