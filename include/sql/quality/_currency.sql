{#- Amounts in the corporate currency for the checks that compare amounts (issue 13); include after
    `with` or a comma. The quality run comes before the KPI build, so it includes the KPI models'
    own selects over staging: dim_currency (the corporate currency from kpis.yaml when the source
    has none: corporate_currency_policy), int_opportunity_currency and int_booking_currency
    (currency_relation = quality_currency; the conversion is rules.sql corporate_amounts). A record
    whose currency has no rate has amount_corporate null and exclusion_reason set. -#}
quality_currency as (
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
)
