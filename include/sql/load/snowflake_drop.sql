{#- Snowflake only: drop the landing tables snowflake_stage.sql created, after the load committed
    or failed. The stage is temporary: it goes with the session (and PURGE emptied it). -#}
{% for l in landings %}
drop table if exists {{ l.table }};
{% endfor %}
