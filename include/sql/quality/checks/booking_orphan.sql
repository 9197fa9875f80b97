{#- Finance booking whose OpportunityId is empty or references no opportunity in the CRM. -#}
select
    b.id as record_id,
    cast(null as varchar) as owner_id, cast(null as varchar) as manager_id,
    'unknown' as team, 'unknown' as region, cast(null as varchar) as segment,
    o.id is null as failed,
    case when b.opportunity_id is null then 'OpportunityId empty'
         when o.id is null then b.opportunity_id else '' end as detail,
    b.opportunity_id as related_id
from {{ tables.booking }} b
left join {{ tables.opportunity }} o on o.id = b.opportunity_id
