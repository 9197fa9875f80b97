{#- Tasks the demo simulation may delete (salesops_demo/simulate.py pending_task_deletes), in Id
    order with their position: not the latest activity of their deal, so LastActivityDate stays true. -#}
-- noqa: disable=CP02, RF06
create or replace temp table _sim_task_pool as
select t.Id, row_number() over (order by t.Id) - 1 as pos
from "Task" as t
inner join "Opportunity" as o on o.Id = t.WhatId
where t.ActivityDate < o.LastActivityDate
order by t.Id
