{#- Denominator of the max-share guard: all current rows of the object. -#}
select count(*) as n from {{ obj.staging_table }}
