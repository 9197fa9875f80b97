{#- One SQL check's outcome: its evaluated records (scope of the first row, failed when any row
    failed) and its offending rows (one per record and detail). -#}
insert into quality.work_population (
    outcome, record_id, owner_id, manager_id, team, region, segment, created_at, failed
)
select
    {{ outcome }} as outcome,
    cast(c.record_id as varchar) as record_id,
    min(c.owner_id) as owner_id,
    min(c.manager_id) as manager_id,
    min(c.team) as team,
    min(c.region) as region,
    min(c.segment) as segment,
    cast(null as timestamp) as created_at,
    max(case when c.failed then 1 else 0 end) = 1 as failed
from (
{% include check %}
) as c
group by cast(c.record_id as varchar);

insert into quality.work_exception (
    outcome, record_id, detail, related_id, owner_id, manager_id, team, region, segment
)
select
    {{ outcome }} as outcome,
    cast(c.record_id as varchar) as record_id,
    coalesce(c.detail, '') as detail,
    min(c.related_id) as related_id,
    min(c.owner_id) as owner_id,
    min(c.manager_id) as manager_id,
    min(c.team) as team,
    min(c.region) as region,
    min(c.segment) as segment
from (
{% include check %}
) as c
where c.failed
group by cast(c.record_id as varchar), coalesce(c.detail, '');
