{#- Closed-won opportunity whose booked amount (sum of its bookings) differs from Amount by more
    than booking_match.amount_tolerance (record = opportunity id). Both sides in the corporate
    currency (_currency.sql: the deal at its close-date rate, each booking at its booking
    date's); when the deal or one of its bookings has no conversion rate the opportunity is not
    evaluated (not_evaluated_reason), never compared across currencies. -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include '_currency.sql' %},
booked as (
    select
        b.opportunity_id,
        sum(bc.amount_corporate) as booked_amount,
        count(*) as bookings,
        min(bu.reason) as booking_unconverted
    from {{ tables.booking }} as b
    inner join booking_currency as bc on bc.booking_id = b.id
    left join booking_unconverted as bu on bu.booking_id = b.id
    where b.opportunity_id is not null
    group by b.opportunity_id
),

compared as (
    select
        o.record_id, {{ scope.scope_columns('o') }},
        oc.amount_corporate as crm_amount,
        b.booked_amount,
        case
            when oc.is_excluded then 'opportunity: ' || oc.exclusion_reason
            else b.booking_unconverted
        end as not_evaluated_reason
    from opp as o
    inner join booked as b on b.opportunity_id = o.record_id
    inner join opp_currency as oc on oc.opportunity_id = o.record_id
    where o.is_won
      and o.amount is not null
)

select
    record_id, {{ scope.scope_columns() }},
    coalesce(not_evaluated_reason is null
        and (booked_amount is null or abs(booked_amount - crm_amount) > :amount_tolerance), false) as failed,
    case when not_evaluated_reason is null
              and (booked_amount is null or abs(booked_amount - crm_amount) > :amount_tolerance)
         then 'crm ' || cast(crm_amount as varchar) || ' vs booked ' || coalesce(cast(cast(booked_amount as decimal(18, 2)) as varchar), 'null')
         else '' end as detail,
    cast(null as varchar) as related_id,
    not_evaluated_reason
from compared
