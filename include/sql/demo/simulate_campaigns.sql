{#- Campaigns a lead can join in the demo simulation (salesops_demo/simulate.py). -#}
-- noqa: disable=CP02, RF06
select Id from "Campaign" where Status <> 'Planned' order by Id
