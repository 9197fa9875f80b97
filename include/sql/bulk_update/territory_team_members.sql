{#- Example proposal for the demo CRM (python -m salesops.territory demo-map): active users by team. -#}
select id, email, team, user_role
from staging.stg_crm__user
where coalesce(is_active, false) and team is not null
order by team, id
