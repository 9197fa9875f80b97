{#- Impact preview of a territory change: the amount of the opportunities the plan moves, in the
    corporate currency (_currency.sql). -#}
{% import 'bulk_update/_macros.sql' as bu %}
with
{% include '_currency.sql' %}

select o.opportunity_id as id, coalesce(o.amount_corporate, 0) as amount
from opp_currency as o
inner join {{ bu.values_table('opp', ['id'], n_ids) }} as m on m.id = o.opportunity_id
