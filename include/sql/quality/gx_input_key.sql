{#- Key-integrity batch for one staging table: just the record id. -#}
select {{ key_column }} as record_id from {{ table }}
