{#- The last change_log sequence number (salesops_demo/simulate.py write). -#}
-- noqa: disable=CP02, RF06
select coalesce(max(seq), 0) from change_log
