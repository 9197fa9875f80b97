{#- One field's label as the source names it (CSV column map header); executemany (load.py). -#}
insert into ops.field_label (object, api_name, label) values (:object, :api_name, :label)
