{#- Impact preview of a territory change: the amount of the opportunities the plan moves. -#}
{% import 'bulk_update/_macros.sql' as bu %}
select o.id, coalesce(o.amount, 0) as amount
from staging.stg_crm__opportunity as o
inner join {{ bu.values_table('opp', ['id'], n_ids) }} as m on m.id = o.id
