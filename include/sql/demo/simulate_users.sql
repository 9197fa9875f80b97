{#- Active users the demo simulation assigns records to (salesops_demo/simulate.py). -#}
-- noqa: disable=CP02, RF06
select Id, UserRole, Team__c from "User" where IsActive order by Id
