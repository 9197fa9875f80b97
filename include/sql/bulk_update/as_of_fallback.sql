{#- The data's "now" when ops.load_audit is empty: the newest change stamp in the object's staging table. -#}
select max({{ obj.cursor_column }}) as as_of from {{ obj.staging_table }}
