{#- The movement comparisons of the build, with whether the history covers them. -#}
select comparison_label, start_date, end_date, is_available, unavailable_reason
from marts.kpi_movement_comparison
order by comparison_label
