{#- Open exceptions of the plan type's checks, as of the latest quality run. -#}
{% import 'bulk_update/_macros.sql' as bu %}
select record_id, check_id from {{ bu.open_exceptions(n_checks) }} as e
order by record_id, check_id
