{#- The first day a live snapshot (staging as extracted) was kept: daily history starts here when
    the source has no field history. -#}
select min(snapshot_date) as first_day
from marts.fct_pipeline_snapshot
where snapshot_source = 'live'
