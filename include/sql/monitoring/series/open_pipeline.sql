-- Open pipeline: amount of open opportunities at the end of each snapshotted day
-- (marts.fct_pipeline_snapshot; one point per day a KPI build wrote a snapshot).
with snapshot as (
    select * from marts.fct_pipeline_snapshot
)

select
    'all' as scope_type,
    'all' as scope_value,
    snapshot_date as day,
    sum(coalesce(amount, 0)) as numerator,
    cast(null as double) as denominator
from snapshot
where snapshot_date >= :from_date and snapshot_date < :as_of_date
group by snapshot_date
