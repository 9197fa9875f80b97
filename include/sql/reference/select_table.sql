{#- Every row of one reference table (salesops/reference.py compares it with the policy). -#}
select * from marts.{{ table }}
