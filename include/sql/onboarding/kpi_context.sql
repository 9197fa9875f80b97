{#- The as-of and history bounds the marts were built with. -#}
select as_of_date, history_start, field_history_start, current_fiscal_quarter_label
from marts.kpi_context
