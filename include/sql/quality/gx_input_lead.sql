{#- The batch Great Expectations validates for leads (scope = the team the territory rules name). -#}
with {% include 'quality/_lead_base.sql' %}
select
    record_id, owner_id, manager_id, coalesce(expected_team, 'unrouted') as team, region, segment,
    email,
    not coalesce(is_converted, false) as is_unconverted,
    created_at
from lead
