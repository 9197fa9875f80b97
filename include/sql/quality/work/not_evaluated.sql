{#- The run's not-evaluated records (each with its reason), and the reasons of one run counted per
    outcome for check_result.reason. -#}
{% import 'quality/_scope.sql' as scope -%}
insert into quality.run_not_evaluated (
    run_id, as_of, check_id, object, record_id, reason, {{ scope.scope_columns() }}
)
select
    :run_id as run_id,
    cast(:as_of as timestamp) as as_of,
    o.check_id,
    o.object,
    n.record_id,
    n.reason,
    {{ scope.scope_columns('n') }}
from quality.work_not_evaluated as n
inner join quality.work_outcome as o on o.outcome = n.outcome
