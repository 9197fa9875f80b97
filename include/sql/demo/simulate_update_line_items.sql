{#- Amount edits absorbed by a deal's last line item (registered as _sim_items: Id, delta, ts). -#}
-- noqa: disable=CP02, RF06
update "OpportunityLineItem" as o
set UnitPrice = o.UnitPrice + u.delta, TotalPrice = o.TotalPrice + u.delta, SystemModstamp = u.ts
from _sim_items as u
where o.Id = u.Id
