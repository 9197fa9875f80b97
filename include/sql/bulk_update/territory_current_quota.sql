{#- Impact preview of a territory change: quotas in the CRM for the proposed quota period, in the
    corporate currency (_currency.sql: a quota converts at its currency's CurrencyType
    rate, as the KPI models convert it). -#}
with
{% include '_currency.sql' %}

select q.owner_id, sum(c.amount_corporate) as quota
from staging.stg_crm__quota as q
inner join quota_currency as c on c.quota_id = q.id
where q.period_start = cast(:period_start as date) and q.owner_id is not null
group by q.owner_id
