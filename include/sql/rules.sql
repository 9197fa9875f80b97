{#- Domain rules written once and imported by every SQL file that applies them
    ({% import 'rules.sql' as rules %}). Dialect differences live in macros.sql, not here. -#}

{#- Reconciliation variance (metrics.yaml bookings_variance_amount): CRM minus finance as a share of
    finance; null when finance is 0 (there is nothing to be a share of). Used by the mart
    agg_bookings_reconciliation and by the quality check reconciliation_variance. -#}
{%- macro reconciliation_variance_pct(crm, finance) -%}
case when {{ finance }} <> 0 then ({{ crm }} - {{ finance }}) / {{ finance }} end
{%- endmacro -%}
