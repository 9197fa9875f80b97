{#- Opportunity whose OwnerId references no user in staging. -#}
{% from 'quality/_orphan.sql' import orphan_rows -%}
with {% include 'quality/_opportunity_base.sql' %}
{{ orphan_rows('opp', 'owner_id', 'users') }}
