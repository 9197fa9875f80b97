{#- The rows of one registry metric's model (python -m salesops metrics --json); `rows` is the
    registry's SQL condition naming the headline rows, validated by the registry. -#}
select *
from marts.{{ model }}
{% if rows %}where {{ rows }}{% endif %}
