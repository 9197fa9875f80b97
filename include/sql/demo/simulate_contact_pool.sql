{#- Contacts the demo simulation may delete (salesops_demo/simulate.py pending_contact_deletes), in
    Id order with their position: not an account's first contact, not in the ground truth or a
    duplicate pair, not a lead conversion's contact, not a campaign member. -#}
-- noqa: disable=CP02, RF06
create or replace temp table _sim_contact_pool as
with keep as (
    select min(Id) as id from "Contact" group by AccountId
    union
    select record_id from ground_truth where object = 'Contact'
    union
    select record_id from dup_pairs
    union
    select related_id from dup_pairs
    union
    select ConvertedOpportunityId from "Lead"
    union
    select ConvertedContactId from "Lead"
    union
    select LeadId from "CampaignMember"
    union
    select ContactId from "CampaignMember"
)

select Id, row_number() over (order by Id) - 1 as pos
from "Contact"
where Id not in (select id from keep where id is not null)
order by Id
