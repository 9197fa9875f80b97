{#- Insert seed rows: table and column names are identifiers checked by the runner; every value
    is a bind parameter. -#}
insert into marts.{{ table }} ({{ columns | join(', ') }})
values ({% for c in columns %}:{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
