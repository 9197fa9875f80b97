{#- Plan: apply a proposed territory map (territory_map.yaml in the config overlay).
    Accounts: an account whose owner is not an owner of its territory moves to one of them - the
    n-th such account of a territory (by id) to owner n mod owners (the listed order): deterministic,
    so a rebuilt plan proposes the same owners; an override pins an account to its owner.
    Opportunities: the open ones (rules.is_closed, bulk_update/_opportunity.sql) of a moved account
    move to its new owner. Leads: with lead_owners, open owned leads (bulk_update/_lead_territory.sql
    open_lead, routed by int_lead_routed) of the territory's cells whose owner is not listed move
    round-robin among them; unassigned leads are reassign_leads' job. Guards: the placement inputs
    (account BillingCountry, NumberOfEmployees, Segment__c; opportunity AccountId, IsClosed; lead
    Country, NumberOfEmployees, Status): a record whose inputs changed since the plan was built is
    skipped. The region column carries the record's (new) territory. -#}
{% import 'bulk_update/_macros.sql' as bu %}
with
{% include 'bulk_update/_territory_inputs.sql' %}

{% include 'bulk_update/_lead_territory.sql' %}

owner_count as (
    select territory, count(*) as n from territory_owner group by territory
),

account_candidate as (
    select
        t.*,
        row_number() over (partition by t.territory order by t.id) - 1 as position
    from account_territory as t
    where t.territory is not null
        and not exists (select 1 from pinned as p where p.account_id = t.id)
        and not exists (
            select 1 from territory_owner as o where o.territory = t.territory and o.user_id = t.owner_id
        )
),

account_move as (
    select
        c.id,
        c.name,
        c.owner_id,
        o.user_id as new_owner_id,
        c.territory,
        c.billing_country,
        c.number_of_employees,
        c.segment_field
    from account_candidate as c
    inner join owner_count as n on n.territory = c.territory
    inner join territory_owner as o on o.territory = c.territory and o.slot = mod(c.position, n.n)
    union all
    select
        t.id,
        t.name,
        t.owner_id,
        p.user_id,
        coalesce(t.territory, '(override)'),
        t.billing_country,
        t.number_of_employees,
        t.segment_field
    from pinned as p
    inner join account_territory as t on t.id = p.account_id
    where coalesce(t.owner_id, '') <> p.user_id
),

{% include 'bulk_update/_opportunity.sql' %}

opportunity_move as (
    select
        o.id,
        o.name,
        o.owner_id,
        m.new_owner_id,
        m.territory,
        o.account_id,
        cast(o.is_closed as varchar) as is_closed
    from opportunity as o
    inner join account_move as m on m.id = o.account_id
    where not o.closed_by_rule
        and coalesce(o.owner_id, '') <> m.new_owner_id
),

lead_owner_ref as (
    select * from {{ bu.values_table_or_empty('lead_owner_slot', ['territory', 'slot', 'user_ref'], n_lead_owners) }}
),

lead_owner as (
    {{ bu.resolve_users('lead_owner_ref', ['o.territory', 'cast(o.slot as integer) as slot']) }}
),

lead_owner_count as (
    select territory, count(*) as n from lead_owner group by territory
),

lead_candidate as (
    select
        l.*,
        tc.territory,
        row_number() over (partition by tc.territory order by l.id) - 1 as position
    from open_lead as l
    inner join territory_cell as tc on tc.segment = l.routing_segment and tc.region = l.routing_region
    inner join lead_owner_count as n on n.territory = tc.territory
    where l.owner_id is not null
        and not exists (
            select 1 from lead_owner as o where o.territory = tc.territory and o.user_id = l.owner_id
        )
),

lead_move as (
    select
        c.*,
        o.user_id as new_owner_id
    from lead_candidate as c
    inner join lead_owner_count as n on n.territory = c.territory
    inner join lead_owner as o on o.territory = c.territory and o.slot = mod(c.position, n.n)
)

{{ bu.plan_rows(
    'account_move',
    [('OwnerId', 'owner_id', 'new_owner_id')],
    [('BillingCountry', 'billing_country'), ('NumberOfEmployees', 'number_of_employees'), ('Segment__c', 'segment_field')],
    'name', 'new_owner_id', 'territory', object='account',
) }}
union all
{{ bu.plan_rows(
    'opportunity_move',
    [('OwnerId', 'owner_id', 'new_owner_id')],
    [('AccountId', 'account_id'), ('IsClosed', 'is_closed')],
    'name', 'new_owner_id', 'territory', object='opportunity',
) }}
union all
{{ bu.plan_rows(
    'lead_move',
    [('OwnerId', 'owner_id', 'new_owner_id')],
    [('Country', 'country'), ('NumberOfEmployees', 'number_of_employees'), ('Status', 'status')],
    'company', 'new_owner_id', 'territory', object='lead',
) }}
