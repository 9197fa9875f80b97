{#- Territory assignments as of a moment: each account's owner and territory then. -#}
select record_id, owner_id, territory, version, plan_id, valid_from, valid_to
from ops.territory_assignment_history
where valid_from <= cast(:as_of as timestamp)
    and (valid_to is null or valid_to > cast(:as_of as timestamp))
order by record_id
