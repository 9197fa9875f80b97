{#- A working table's rows (the columns asked for, else all). -#}
select {{ columns | join(', ') if columns is defined and columns else '*' }} from {{ batch }}
