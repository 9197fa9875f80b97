{#- Impact preview of a territory change: quotas in the CRM for the proposed quota period. -#}
select owner_id, sum(quota_amount) as quota
from staging.stg_crm__quota
where period_start = cast(:period_start as date) and owner_id is not null
group by owner_id
