{#- Plan: open opportunities whose last activity (or, with none, creation) is before :cutoff_date
    (as-of date - stale threshold - extra margin) -> Closed Lost with a loss reason, the closed
    stage's forecast category and probability. LastActivityDate is a guard: new activity since the
    plan was built means the deal is alive and the record is skipped. -#}
with {% include 'bulk_update/_opportunity.sql' %}

users as (
    select * from staging.stg_crm__user
),

stale as (
    select
        o.id,
        o.name,
        o.owner_id,
        o.stage_name,
        o.forecast_category,
        cast(o.probability as varchar) as probability,
        o.loss_reason,
        cast(o.last_activity_date as varchar) as last_activity_date,
        u.region
    from opportunity as o
    left join users as u on u.id = o.owner_id
    where not o.closed_by_rule
        and coalesce(o.last_activity_date, cast(o.created_at as date)) < cast(:cutoff_date as date)
)

select id as record_id, 'StageName' as field, 'change' as role, stage_name as before_value,
    cast(:target_stage as varchar) as after_value, name as record_name, owner_id, region
from stale
union all
select id, 'ForecastCategoryName', 'change', forecast_category, cast(:target_category as varchar), name, owner_id, region
from stale
union all
select id, 'Probability', 'change', probability, cast(:target_probability as varchar), name, owner_id, region
from stale
union all
select id, 'Loss_Reason__c', 'change', loss_reason, cast(:loss_reason as varchar), name, owner_id, region
from stale
union all
select id, 'LastActivityDate', 'guard', last_activity_date, last_activity_date, name, owner_id, region
from stale
