{#- Plan: leads the quality job clustered as duplicates of an earlier lead (quality.duplicate_cluster
    of run :quality_run_id, not the original) -> Status :duplicate_status. Only open, unconverted
    leads whose match kind is configured and whose surviving record (the cluster's original) is
    still in staging. The survivor has no CRM field to go in (the demo org has no Duplicate_Of__c),
    so the plan names it in record_name. Email, FirstName, LastName and Company are guards: a lead
    whose match inputs changed since the plan was built is skipped. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with {% include 'bulk_update/_duplicate_leads.sql' %}

users as (
    select * from staging.stg_crm__user
),

dup_member as (
    select d.*
    from cluster_member as d
    inner join match_kind as mk on mk.kind = d.match_kind
    where d.record_id <> d.survivor_id
),

targets as (
    select
        l.id,
        l.status,
        l.email,
        l.first_name,
        l.last_name,
        l.company,
        l.owner_id,
        coalesce(l.region, u.region) as region,
        coalesce(l.company, '') || ' (duplicate of ' || d.survivor_id || ', ' || d.match_kind || ')' as record_name
    from dup_member as d
    inner join lead as l on l.id = d.record_id
    inner join lead as s on s.id = d.survivor_id
    left join users as u on u.id = l.owner_id
    where {{ bu.is_open_lead('l') }}
)

{{ bu.plan_rows(
    'targets',
    [('Status', 'status', 'cast(:duplicate_status as varchar)')],
    [('Email', 'email'), ('FirstName', 'first_name'), ('LastName', 'last_name'), ('Company', 'company')],
    'record_name',
) }}
