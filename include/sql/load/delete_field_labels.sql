{#- An object's field labels are replaced by each load that brings them (load.py). -#}
delete from ops.field_label where object = :object
