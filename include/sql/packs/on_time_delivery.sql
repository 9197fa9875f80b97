{#- On-time delivery KPI per pack and period: of the pack slices (pack x period x scope) that were
    due, the share whose first successful publish (email, slack or file) was at or before its due
    time (as-of + packs.yaml deliver_within_hours). A held slice that was never published is late. -#}
with slices as (
    select pack, period, scope_type, scope_value, max(due_at) as due_at,
           min(case when status = 'sent' and channel in ('email', 'slack', 'file')
                     and not coalesce(detail, '') like 'hold notice%' then sent_at end) as first_sent_at
    from ops.pack_delivery_log
    group by pack, period, scope_type, scope_value
)

select
    pack,
    period,
    count(*) as slices_due,
    sum(case when first_sent_at is not null and first_sent_at <= due_at then 1 else 0 end) as slices_on_time,
    sum(case when first_sent_at is null then 1 else 0 end) as slices_not_delivered,
    case when count(*) > 0
         then cast(sum(case when first_sent_at is not null and first_sent_at <= due_at then 1 else 0 end) as double) / count(*)
    end as on_time_delivery_rate
from slices
group by pack, period
order by pack, period
