{#- A StageName or ForecastCategoryName the policy (stages.yaml) does not list: the policy does not
    describe this CRM, so every stage-based figure (open, won, probability) would be wrong. The
    same for a value of any Opportunity field whose picklist stages.yaml names in
    blocking_picklists. One row per opportunity and field; the detail names the field and the
    value as exported. -#}
{% from 'quality/_picklist_unknown.sql' import unknown_picklist_finding -%}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %},
known_fc as (
    select * from (values
    {%- for c in forecast_categories %}
        ({{ c }}){{ "," if not loop.last }}
    {%- endfor %}
    ) as t (value)  -- noqa: AL05
)

select
    o.record_id,
    {{ scope.scope_columns('o') }},
    coalesce(o.stage_order is null and trim(o.stage_name) <> '', false) as failed,
    case
        when o.stage_order is null and trim(o.stage_name) <> ''
            then 'StageName ' || chr(39) || o.stage_name || chr(39)
        else ''
    end as detail,
    cast(null as varchar) as related_id
from opp as o
union all
select
    o.record_id,
    {{ scope.scope_columns('o') }},
    true as failed,
    'ForecastCategoryName ' || chr(39) || o.forecast_category || chr(39) as detail,
    cast(null as varchar) as related_id
from opp as o
where
    trim(o.forecast_category) <> ''
    and o.forecast_category not in (select k.value from known_fc as k)
{%- for p in blocking_picklists %}
union all
{{ unknown_picklist_finding('opp', tables.opportunity, p) }}
{%- endfor %}
