{#- The first applied map starts the history: every account's owner as of the plan's data
    (valid from the data's as-of), once. -#}
insert into ops.territory_assignment_history (
    record_id, owner_id, territory, valid_from, valid_to, version, plan_id, closed_by_plan_id
)
select a.id, a.owner_id, cast(null as varchar), cast(:as_of as timestamp), cast(null as timestamp),
    'baseline', cast(null as varchar), cast(null as varchar)
from staging.stg_crm__account as a
where not exists (select 1 from ops.territory_assignment_history)
