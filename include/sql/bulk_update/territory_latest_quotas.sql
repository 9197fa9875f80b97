{#- Example proposal for the demo CRM: every owner's quota of the latest quota period in the CRM. -#}
select q.owner_id, q.period_start, q.quota_amount
from staging.stg_crm__quota as q
where q.period_start = (select max(l.period_start) from staging.stg_crm__quota as l)
