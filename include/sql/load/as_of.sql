{#- The data's as-of time (salesops.as_of.data_as_of): one row from the one definition. -#}
select
    as_of,
    load_finished_at
from ops.v_as_of
