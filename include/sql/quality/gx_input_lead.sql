{#- The batch Great Expectations validates for leads (scope = the team the territory rules name). -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_lead_base.sql' %}
select
    {{ scope.lead_scoped() }},
    email,
    not coalesce(is_converted, false) as is_unconverted,
    created_at
from lead
