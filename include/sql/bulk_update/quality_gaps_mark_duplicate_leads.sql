{#- Why an open lead_duplicate exception is not in a mark_duplicate_leads plan (same parameters as
    plan_mark_duplicate_leads.sql). Null reason: the plan's rules would include it. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with open_exception as (
    select * from {{ bu.open_exceptions(n_checks) }} as e
),

{% include 'bulk_update/_duplicate_leads.sql' %}

dup_member as (
    select * from cluster_member
)

select
    e.record_id,
    e.check_id,
    case
        when l.id is null then 'not in staging (deleted since the quality run)'
        when d.record_id is null then 'not in the quality run''s duplicate clusters'
        when not exists (select 1 from match_kind as mk where mk.kind = d.match_kind)
            then 'match kind ' || coalesce(d.match_kind, '(null)') || ' not in params.match_kinds'
        when s.id is null then 'surviving record not in staging'
        when coalesce(l.is_converted, false) then 'converted'
        when not exists (select 1 from open_status as os where os.status = l.status)
            then 'status ' || coalesce(l.status, '(null)') || ' is not an open status'
    end as reason
from open_exception as e
left join lead as l on l.id = e.record_id
left join dup_member as d on d.record_id = e.record_id
left join lead as s on s.id = d.survivor_id
