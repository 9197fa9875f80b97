{#- Amounts in the corporate currency before (or without) a KPI build (issue 13), for the quality
    checks that compare amounts and the territory_change impact preview; include after `with` or a
    comma. It includes the KPI models' own selects over staging: dim_currency (the corporate
    currency from kpis.yaml when the source has none: corporate_currency_policy),
    int_opportunity_currency, int_booking_currency and int_quota_currency (currency_relation =
    staged_currency; the conversion is rules.sql corporate_amounts). A record whose currency has
    no rate has amount_corporate null and exclusion_reason set; booking_unconverted words it for
    the quality reasons (with its file and line when it came from a CSV export). Unused CTEs cost
    nothing. -#}
{% import 'rules.sql' as rules -%}
staged_currency as (
    select * from (
{% include 'kpis/models/dim_currency.sql' %}
    ) as dc
),

opp_currency as (
    select * from (
{% include 'kpis/models/int_opportunity_currency.sql' %}
    ) as oc
),

booking_currency as (
    select * from (
{% include 'kpis/models/int_booking_currency.sql' %}
    ) as bc
),

booking_unconverted as (
    {#- each booking whose currency has no rate as the quality reasons name it: its id, its file and
        line in a CSV finance export (rules.sql record_origin) and why -#}
    select
        bc.booking_id,
        'booking ' || bc.booking_id
        || coalesce(' (' || {{ rules.record_origin('raw.finance__booking', 'sb') }} || ')', '')
        || ': ' || bc.exclusion_reason as reason
    from booking_currency as bc
    inner join staging.stg_finance__booking as sb on sb.id = bc.booking_id
    where bc.is_excluded
),

quota_currency as (
    select * from (
{% include 'kpis/models/int_quota_currency.sql' %}
    ) as qc
)
