{#- Inputs of a territory change shared by plan_territory_change.sql and territory_unplaced_accounts.sql
    (one definition, so the plan and its validation never disagree). The proposed map arrives as
    bind parameters (salesops.bulk_update.plan_types.territory_change); users are named by id or
    email (the validation has checked each names exactly one active user). An account's cell: its
    segment is the band of NumberOfEmployees (else its Segment__c), its region the region listing
    its BillingCountry - the segment rule of rules.sql (segment_band_join / segment, as in
    int_lead_routed) over the reference tables every job joins (marts.dim_segment_band,
    marts.dim_country_region). -#}
{% import 'bulk_update/_macros.sql' as bu %}
{% import 'rules.sql' as rules %}
users as (
    select * from staging.stg_crm__user
),

country_region as (
    select * from marts.dim_country_region
),

territory_cell as (
    select * from {{ bu.values_table('territory_cell', ['territory', 'segment', 'region'], n_cells) }}
),

owner_ref as (
    select * from {{ bu.values_table('owner_slot', ['territory', 'slot', 'user_ref'], n_owners) }}
),

territory_owner as (
    {{ bu.resolve_users('owner_ref', ['o.territory', 'cast(o.slot as integer) as slot']) }}
),

override_ref as (
    select * from {{ bu.values_table_or_empty('account_override', ['account_id', 'user_ref'], n_overrides) }}
),

pinned as (
    {{ bu.resolve_users('override_ref', ['o.account_id']) }}
),

account_place as (
    select
        a.id,
        a.name,
        a.owner_id,
        a.billing_country,
        cast(a.number_of_employees as varchar) as number_of_employees,
        a.segment as segment_field,
        {{ rules.segment('b', 'a.segment') }} as segment,
        cr.region
    from staging.stg_crm__account as a
    {{ rules.segment_band_join('a.number_of_employees', 'b') }}
    left join country_region as cr on cr.country = a.billing_country
),

account_territory as (
    select
        p.*,
        tc.territory
    from account_place as p
    left join territory_cell as tc on tc.segment = p.segment and tc.region = p.region
),
