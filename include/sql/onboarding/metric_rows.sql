{#- The rows of one registry metric's model (python -m salesops metrics --json); metric_rows is the
    registry's SQL condition naming the headline rows, validated by the registry. -#}
select *
from marts.{{ metric_model }}
{% if metric_rows %}where {{ metric_rows }}{% endif %}
