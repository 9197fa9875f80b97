{#- Every id staging holds for one object (a full export's missing ids are deletes). -#}
select {{ key_column }} as id from {{ table }}
