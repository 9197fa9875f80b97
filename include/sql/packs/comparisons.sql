{#- The movement comparisons of the KPI build and whether the history covers them
    (salesops.kpis.history): a pack says "not available: <reason>" for the rest. -#}
select comparison_label, start_date, end_date, is_available, unavailable_reason
from marts.kpi_movement_comparison
