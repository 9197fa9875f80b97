{#- Opportunity whose AccountId references no account in staging (empty AccountId is a
    required-field exception, not an orphan). -#}
{% from 'quality/_orphan.sql' import orphan_rows -%}
with {% include 'quality/_opportunity_base.sql' %}
{{ orphan_rows('opp', 'account_id', tables.account) }}
