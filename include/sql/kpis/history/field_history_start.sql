{#- The first recorded opportunity field change (OpportunityFieldHistory) and how many there are:
    snapshots can be rebuilt from this day on. -#}
select
    min(cast(created_at as date)) as first_day,
    count(*) as n
from staging.stg_crm__opportunity_field_history
