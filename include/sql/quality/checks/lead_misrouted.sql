{#- Lead owned by an active user outside the team territories.yaml routes its (segment, region) to.
    Not evaluated: unassigned leads (lead_unassigned), owners that are not active users (an
    inactive or unknown owner is a user-admin problem, not a routing one), and leads no rule
    covers (no employee count or an unmapped country). -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_lead_base.sql' %}
select
    {{ scope.lead_scoped() }},
    (owner_team is null or owner_team <> expected_team) as failed,
    case when owner_team is null or owner_team <> expected_team
         then 'expected ' || expected_team || ', owner team ' || coalesce(owner_team, '(none)')
         else '' end as detail,
    cast(null as varchar) as related_id
from lead
where owner_user_id is not null
  and owner_is_active
  and expected_team is not null
