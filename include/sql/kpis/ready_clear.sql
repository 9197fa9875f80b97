{#- A build is starting: the marts are not a consistent set until it finishes (packs wait). -#}
drop table if exists marts.kpi_ready;
