{#- Impact preview of a territory change: per owner, what they own now (accounts, open
    opportunities and their amount in the corporate currency: bulk_update/_open_pipeline.sql, open
    unconverted leads). -#}
{% import 'bulk_update/_macros.sql' as bu %}
with {% include 'bulk_update/_open_pipeline.sql' %}

{{ bu.open_status_cte(n_statuses) }},

accounts as (
    select owner_id, count(*) as n
    from staging.stg_crm__account
    where owner_id is not null
    group by owner_id
),

opportunities as (
    select
        owner_id,
        count(*) as n,
        sum(coalesce(amount_corporate, 0)) as amount
    from open_pipeline
    where owner_id is not null
    group by owner_id
),

leads as (
    select l.owner_id, count(*) as n
    from staging.stg_crm__lead as l
    where l.owner_id is not null and {{ bu.is_open_lead('l') }}
    group by l.owner_id
),

owners as (
    select owner_id from accounts
    union
    select owner_id from opportunities
    union
    select owner_id from leads
)

select
    w.owner_id,
    coalesce(a.n, 0) as accounts,
    coalesce(o.n, 0) as open_opportunities,
    coalesce(o.amount, 0) as open_pipeline,
    coalesce(l.n, 0) as open_leads
from owners as w
left join accounts as a on a.owner_id = w.owner_id
left join opportunities as o on o.owner_id = w.owner_id
left join leads as l on l.owner_id = w.owner_id
order by w.owner_id
