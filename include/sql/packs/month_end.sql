{#- Last day of the fiscal month containing :as_of_date. -#}
select max(date_day) as month_end
from marts.dim_fiscal_calendar
where fiscal_month_label = (select fiscal_month_label from marts.dim_fiscal_calendar where date_day = :as_of_date)
