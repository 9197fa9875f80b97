{#- Fold this run's exceptions (quality.run_exception) into the exception queue.
    - seen again: last_seen/last_run_id move on; a resolved one reopens with a new first_seen
    - new: inserted open
    - open but not seen by a check that ran this run: resolved (a fixed record drops out)
    Checks that did not run this run leave their exceptions untouched. -#}
{% import 'quality/_scope.sql' as scope -%}
update quality.exception_queue as q set
    first_seen = case when q.status = 'resolved' then r.as_of else q.first_seen end,
    first_run_id = case when q.status = 'resolved' then r.run_id else q.first_run_id end,
    last_seen = r.as_of,
    last_run_id = r.run_id,
    status = 'open',
    resolved_at = null,
    resolved_run_id = null,
    related_id = r.related_id,
    owner_id = r.owner_id,
    manager_id = r.manager_id,
    team = r.team,
    region = r.region,
    segment = r.segment,
    severity = r.severity,
    message = r.message
from quality.run_exception r
where r.run_id = :run_id
  and q.check_id = r.check_id and q.object = r.object and q.record_id = r.record_id and q.detail = r.detail;

insert into quality.exception_queue (
    check_id, object, record_id, detail, related_id, {{ scope.scope_columns() }},
    severity, status, first_seen, last_seen, first_run_id, last_run_id, message
)
select
    r.check_id, r.object, r.record_id, r.detail, r.related_id, r.owner_id, r.manager_id, r.team, r.region,
    r.segment, r.severity, 'open', r.as_of, r.as_of, r.run_id, r.run_id, r.message
from quality.run_exception r
where r.run_id = :run_id
  and not exists (
    select 1 from quality.exception_queue q
    where q.check_id = r.check_id and q.object = r.object and q.record_id = r.record_id and q.detail = r.detail
  );

update quality.exception_queue as q set
    status = 'resolved',
    resolved_at = cast(:as_of as timestamp),
    resolved_run_id = :run_id
where q.status = 'open'
  and q.check_id in ({{ checks_run }})
  and not exists (
    select 1 from quality.run_exception r
    where r.run_id = :run_id
      and q.check_id = r.check_id and q.object = r.object and q.record_id = r.record_id and q.detail = r.detail
  );
