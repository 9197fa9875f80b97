{#- Accounts a new demo opportunity is drawn from (salesops_demo/simulate.py), in the table's own
    order (the seeded draw picks a position), with the account's first contact (the WhoId of
    activities on its deals). -#}
-- noqa: disable=CP02, RF06
with account as (
    select Id, Name, Region__c, Segment__c, OwnerId, rowid as pos from "Account"
),

first_contact as (
    select AccountId, min(Id) as cid from "Contact" group by AccountId
)

select a.Id, a.Name, a.Region__c, a.Segment__c, a.OwnerId, fc.cid as first_contact
from account as a
left join first_contact as fc on fc.AccountId = a.Id
order by a.pos
