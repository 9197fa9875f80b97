{#- Impact preview of a territory change: the open opportunities and the quota-period quotas whose
    currency has no conversion rate (_currency.sql); the preview is refused while any
    exist, as the KPI build is (kpis/unconverted_amounts.sql), instead of summing them at face value
    or leaving them out. -#}
{% import 'bulk_update/_macros.sql' as bu %}
{% import 'rules.sql' as rules %}
with
{% include '_currency.sql' %},

stage_closed as (
    select * from {{ bu.values_table('stage_closed', ['stage_name', 'is_closed'], n_stages) }}
)

select 'Opportunity' as object, o.id as record_id, c.exclusion_reason as reason
from staging.stg_crm__opportunity as o
inner join opp_currency as c on c.opportunity_id = o.id
left join stage_closed as s on s.stage_name = o.stage_name
where c.is_excluded and not {{ rules.is_closed('o.is_closed', 's.is_closed') }}
union all
select 'ForecastingQuota' as object, q.id as record_id, c.exclusion_reason as reason
from staging.stg_crm__quota as q
inner join quota_currency as c on c.quota_id = q.id
where c.is_excluded and q.period_start = cast(:period_start as date)
order by object, record_id
