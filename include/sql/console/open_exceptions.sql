{#- The open exception queue for the console, filtered to the viewer's scope and the page's filters.
    Switches: scope_column (team | region | owner_id, none = company-wide). Values are bind parameters
    (:scope_value, :owner, :team, :check_id; an empty filter is null). -#}
select
    q.check_id,
    q.object,
    q.record_id,
    q.detail,
    q.owner_id,
    q.team,
    q.region,
    q.severity,
    q.first_seen,
    q.last_seen,
    q.age_days
from quality.v_open_exceptions as q
where
    true
    {%- if scope_column %}
    and q.{{ scope_column }} = :scope_value
    {%- endif %}
    and (cast(:owner as varchar) is null or q.owner_id = :owner)
    and (cast(:team as varchar) is null or q.team = :team)
    and (cast(:check_id as varchar) is null or q.check_id = :check_id)
order by q.check_id, q.team, q.owner_id, q.record_id
