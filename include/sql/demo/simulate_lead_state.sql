{#- The demo simulation's state of every lead (salesops_demo/simulate.py Simulator._load), one row per
    lead in Id order: the masks the daily events read (a lead with a ground-truth defect, in a
    duplicate pair or with a malformed value is flagged and left alone) and its latest lifecycle
    stage, and its rowid: the other columns are read on demand (by rowid) for the few leads an
    event copies. -#}
-- noqa: disable=CP02, RF06
with flagged as (
    select record_id as id from ground_truth where object = 'Lead'
    union
    select record_id from dup_pairs
    union
    select related_id from dup_pairs
    union
    select Id from malformed_values
),

flagged_ids as (
    select id from flagged where id is not null
),

campaign as (
    select distinct LeadId as id from "CampaignMember" where LeadId is not null
),

life as (
    select LeadId, arg_max(ToStage, ChangedAt) as stage
    from "LifecycleStageChange"
    group by LeadId
)

select
    l.Id as "Id",
    l.rowid as row_id,
    l.OwnerId is not null as owned,
    coalesce(l.IsConverted, false) as converted,
    f.id is not null as flagged,
    c.id is not null as in_campaign,
    lc.LeadId is not null as has_life,
    lc.stage as life_stage
from "Lead" as l
left join flagged_ids as f on f.id = l.Id
left join campaign as c on c.id = l.Id
left join life as lc on lc.LeadId = l.Id
order by l.Id
