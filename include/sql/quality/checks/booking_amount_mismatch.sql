{#- Closed-won opportunity whose booked amount (sum of its bookings) differs from Amount by more
    than booking_match.amount_tolerance (record = opportunity id). -#}
with {% include 'quality/_opportunity_base.sql' %},
booked as (
    select opportunity_id, sum(amount) as booked_amount, count(*) as bookings
    from {{ tables.booking }}
    where opportunity_id is not null
    group by opportunity_id
)

select
    o.record_id, o.owner_id, o.manager_id, o.team, o.region, o.segment,
    (b.booked_amount is null or abs(b.booked_amount - o.amount) > :amount_tolerance) as failed,
    case when b.booked_amount is null or abs(b.booked_amount - o.amount) > :amount_tolerance
         then 'crm ' || cast(o.amount as varchar) || ' vs booked ' || coalesce(cast(cast(b.booked_amount as decimal(18, 2)) as varchar), 'null')
         else '' end as detail,
    cast(null as varchar) as related_id
from opp o
join booked b on b.opportunity_id = o.record_id
where o.is_won
  and o.amount is not null
