{#- Impact preview of a territory change: per owner, what they own now (accounts, open
    opportunities and their amount in the corporate currency, open unconverted leads). Open =
    rules.is_closed false. -#}
{% import 'bulk_update/_macros.sql' as bu %}
{% import 'rules.sql' as rules %}
with
{% include '_currency.sql' %},

stage_closed as (
    select * from {{ bu.values_table('stage_closed', ['stage_name', 'is_closed'], n_stages) }}
),

open_status as (
    select * from {{ bu.values_table('open_status', ['status'], n_statuses) }}
),

accounts as (
    select owner_id, count(*) as n
    from staging.stg_crm__account
    where owner_id is not null
    group by owner_id
),

opportunities as (
    select
        o.owner_id,
        count(*) as n,
        sum(coalesce(c.amount_corporate, 0)) as amount
    from staging.stg_crm__opportunity as o
    inner join opp_currency as c on c.opportunity_id = o.id
    left join stage_closed as s on s.stage_name = o.stage_name
    where o.owner_id is not null and not {{ rules.is_closed('o.is_closed', 's.is_closed') }}
    group by o.owner_id
),

leads as (
    select l.owner_id, count(*) as n
    from staging.stg_crm__lead as l
    inner join open_status as os on os.status = l.status
    where l.owner_id is not null and not coalesce(l.is_converted, false)
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
