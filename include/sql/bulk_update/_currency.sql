{#- Amounts in the corporate currency for the territory-change impact preview (issue 13); include
    after `with` or a comma. A plan is built from staging, before or without a KPI build, so like
    quality/_currency.sql it includes the KPI models' own selects: dim_currency (the corporate
    currency from kpis.yaml when the source has none: corporate_currency_policy),
    int_opportunity_currency and int_quota_currency (currency_relation = bu_currency; the
    conversion is rules.sql corporate_amounts). A record whose currency has no rate has
    amount_corporate null and exclusion_reason set: the preview refuses to sum it. -#}
bu_currency as (
    select * from (
{% include 'kpis/models/dim_currency.sql' %}
    ) as dc
),

opp_currency as (
    select * from (
{% include 'kpis/models/int_opportunity_currency.sql' %}
    ) as oc
),

quota_currency as (
    select * from (
{% include 'kpis/models/int_quota_currency.sql' %}
    ) as qc
)
