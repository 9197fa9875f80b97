{#- The run's exception rows (queued checks only), with the scope of the record (as evaluated). -#}
{% import 'quality/_scope.sql' as scope -%}
insert into quality.run_exception (
    run_id, as_of, check_id, object, record_id, detail, related_id,
    {{ scope.scope_columns() }}, severity
)
select
    :run_id as run_id,
    cast(:as_of as timestamp) as as_of,
    o.check_id,
    o.object,
    e.record_id,
    e.detail,
    e.related_id,
    {{ scope.scope_columns('e') }},
    o.severity
from quality.work_exception as e
inner join quality.work_outcome as o on o.outcome = e.outcome
where o.queue
