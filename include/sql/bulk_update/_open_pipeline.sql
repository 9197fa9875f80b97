{#- The open opportunities of the territory_change impact preview with their amount in the
    corporate currency, shared by territory_baseline_by_owner.sql and
    territory_unconverted_amounts.sql (one definition, so the preview and its refusal never
    disagree): open by the one closed rule of the plans (bulk_update/_opportunity.sql: rules.is_closed
    over the stage flags of stages.yaml), converted by the KPI models' conversion
    (_currency.sql: amount_corporate null and exclusion_reason set when the currency has no rate).
    Include after `with`. -#}
{% include '_currency.sql' %},

{% include 'bulk_update/_opportunity.sql' %}

open_pipeline as (
    select
        o.id,
        o.owner_id,
        c.amount_corporate,
        c.is_excluded,
        c.exclusion_reason
    from opportunity as o
    inner join opp_currency as c on c.opportunity_id = o.id
    where not o.closed_by_rule
),
