{#- CloseDate moved later more than hygiene.close_date.max_pushes times (OpportunityFieldHistory). -#}
{% import 'quality/_scope.sql' as scope -%}
{% import 'macros.sql' as m with context %}
with {% include 'quality/_opportunity_base.sql' %},
pushes as (
    select opportunity_id, count(*) as pushes
    from {{ tables.opportunity_field_history }}
    where field = 'CloseDate'
      and {{ m.parse('new_value', 'date') }} > {{ m.parse('old_value', 'date') }}
    group by opportunity_id
)
select
    o.record_id, {{ scope.scope_columns('o') }},
    coalesce(p.pushes, 0) > {{ max_pushes }} as failed,
    case when coalesce(p.pushes, 0) > {{ max_pushes }}
         then cast(p.pushes as varchar) || ' pushes' else '' end as detail,
    cast(null as varchar) as related_id
from opp o
left join pushes p on p.opportunity_id = o.record_id
