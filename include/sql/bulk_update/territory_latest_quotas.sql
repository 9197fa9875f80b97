{#- Example proposal for the demo CRM: every owner's quota of the latest quota period in the CRM. -#}
select owner_id, period_start, quota_amount
from staging.stg_crm__quota
where period_start = (select max(period_start) from staging.stg_crm__quota)
