{#- How much data a scope has: a section with data in scope must not come out empty. Open = the
    source's IsClosed, else the stage's policy (report exports carry no IsClosed: counting every
    deal of such an export as open made a hold say "8800 open" when 2,089 were). -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules -%}
select
    (select count(*) from staging.stg_crm__opportunity as o
        left join staging.stg_crm__user as u on u.id = o.owner_id
        left join marts.dim_stage as st on st.stage_name = o.stage_name
        where not {{ rules.is_closed('o.is_closed', 'st.is_closed') }} and {{ s.scope_filter('u.region', 'u.team', 'u.id') }}) as open_opportunities,
    (select count(*) from staging.stg_crm__opportunity as o
        left join staging.stg_crm__user as u on u.id = o.owner_id
        where {{ s.scope_filter('u.region', 'u.team', 'u.id') }}) as opportunities,
    (select count(*) from staging.stg_crm__lead as l
        left join staging.stg_crm__user as u on u.id = l.owner_id
        where {{ s.scope_filter('l.region', 'u.team', 'l.owner_id') }}) as leads,
    (select count(*) from quality.exception_queue as q
        left join staging.stg_crm__user as u on u.id = q.owner_id
        where q.status = 'open'
          and {{ s.scope_filter('coalesce(u.region, q.region)', 'coalesce(u.team, q.team)', 'q.owner_id') }}) as exceptions,
    (select count(*) from quality.scorecard) as scorecard_rows
