{#- Last day of the fiscal month containing :as_of_date. -#}
select max(c.date_day) as month_end
from marts.dim_fiscal_calendar as c
where c.fiscal_month_label = (
    select a.fiscal_month_label from marts.dim_fiscal_calendar as a where a.date_day = :as_of_date
)
