{#- Territory routing inputs shared by plan_reassign_leads.sql and quality_gaps_reassign_leads.sql
    (one definition, so the plan and its explanation of unfixed exceptions never disagree): users,
    the open lead statuses (bind parameters) and each lead's routing. The routing is the one
    definition the quality routing checks and the speed-to-lead KPI use, the model
    kpis/models/int_lead_routed.sql (segment = band of NumberOfEmployees, else the lead's
    Segment__c; region from Country; expected team = first routing rule), over the territory
    tables salesops.reference.ensure_territories writes before the plan runs. -#}
{% import 'bulk_update/_macros.sql' as bu %}
users as (
    select * from staging.stg_crm__user
),

open_status as (
    select * from {{ bu.values_table('open_status', ['status'], n_statuses) }}
),

lead_routed as (
{% include 'kpis/models/int_lead_routed.sql' %}
),
