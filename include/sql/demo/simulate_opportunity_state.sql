{#- The demo simulation's state of every opportunity (salesops_demo/simulate.py Simulator._load), one
    row per opportunity in Id order: what the daily events read. Text columns are filled for open
    deals only (the simulation never touches a closed one): at 1 M opportunities the 550 k closed
    deals' text cost memory and load time for nothing.
    Bind: $1 stage names, $2 their orders (stages.yaml, same order). -#}
-- noqa: disable=CP02, RF06
with stage_order as (
    select unnest($1) as stage, unnest($2) as ord
),

-- every ground-truth defect freezes its deal; a booking_* defect sits on the opportunity id
defects as (
    select
        record_id as id,
        bool_or(object = 'Opportunity' and defect = 'opp_stale') as stale_def,
        bool_or(object = 'Opportunity' and defect = 'opp_past_close_date') as pastdue_def,
        bool_or(object = 'Opportunity' and defect = 'opp_close_date_pushed') as pushed_def
    from ground_truth
    where object in ('Opportunity', 'FinanceBooking')
    group by record_id
),

malformed as (select distinct Id as id from malformed_values),

pushes as (
    select OpportunityId, count(*) as n
    from "OpportunityFieldHistory"
    where Field = 'CloseDate' and try_cast(NewValue as date) > try_cast(OldValue as date)
    group by OpportunityId
),

items as (
    select OpportunityId, count(*) as n, max(Id) as last_id, arg_max(TotalPrice, Id) as last_total
    from "OpportunityLineItem"
    group by OpportunityId
),

converted as (
    select distinct ConvertedOpportunityId as id from "Lead" where ConvertedOpportunityId is not null
),

booked as (
    select distinct OpportunityId as id from "FinanceBooking" where OpportunityId is not null
),

first_contact as (
    select AccountId, min(Id) as cid from "Contact" group by AccountId
)

select
    coalesce(o.IsClosed, false) as closed,
    s.ord as stage_order,
    o.CloseDate as close_date,
    o.LastActivityDate as last_activity,
    cast(o.Amount as double) as amount,
    d.id is null and m.id is null as clean,
    coalesce(d.stale_def, false) as stale_def,
    coalesce(d.pastdue_def, false) as pastdue_def,
    coalesce(d.pushed_def, false) as pushed_def,
    coalesce(p.n, 0) as pushes,
    coalesce(i.n, 0) as item_n,
    cast(i.last_total as double) as item_last_total,
    c.id is not null as converted,
    b.id is not null as booked,
    case when not coalesce(o.IsClosed, false) then o.Id end as "Id",
    case when not coalesce(o.IsClosed, false) then o.OwnerId end as "OwnerId",
    case when not coalesce(o.IsClosed, false) then o.AccountId end as "AccountId",
    case when not coalesce(o.IsClosed, false) then o.Type end as "Type",
    case when not coalesce(o.IsClosed, false) then o.NextStep end as "NextStep",
    case when not coalesce(o.IsClosed, false) then o.StageName end as "StageName",
    case when not coalesce(o.IsClosed, false) then o.ForecastCategoryName end as "ForecastCategoryName",
    case when not coalesce(o.IsClosed, false) then o.CurrencyIsoCode end as "CurrencyIsoCode",
    case when not coalesce(o.IsClosed, false) then i.last_id end as item_last,
    case when not coalesce(o.IsClosed, false) then fc.cid end as first_contact
from "Opportunity" as o
left join stage_order as s on s.stage = o.StageName
left join defects as d on d.id = o.Id
left join malformed as m on m.id = o.Id
left join pushes as p on p.OpportunityId = o.Id
left join items as i on i.OpportunityId = o.Id
left join converted as c on c.id = o.Id
left join booked as b on b.id = o.Id
left join first_contact as fc on fc.AccountId = o.AccountId
order by o.Id
