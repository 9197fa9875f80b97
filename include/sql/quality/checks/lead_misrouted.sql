{#- Assigned lead whose owner is not in the team territories.yaml routes its (segment, region) to.
    Leads no rule covers (unmapped country and no Region__c, no employee count and no Segment__c)
    cannot be judged and are not evaluated. -#}
with {% include 'quality/_lead_base.sql' %}
select
    record_id, owner_id, manager_id, expected_team as team, region, segment,
    (owner_team is null or owner_team <> expected_team) as failed,
    case when owner_team is null or owner_team <> expected_team
         then 'expected ' || expected_team || ', owner team ' || coalesce(owner_team, '(unknown owner)')
         else '' end as detail,
    cast(null as varchar) as related_id
from lead
where owner_id is not null
  and expected_team is not null
