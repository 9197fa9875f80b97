{#- Warehouse total for the pack check: closed-won amount per fiscal quarter of the close date, from
    staging (company-wide), for the quarters the pack shows. -#}
{% import 'rules.sql' as rules -%}
select c.fiscal_quarter_label as period_label, sum(coalesce(o.amount, 0)) as crm_bookings_amount
from staging.stg_crm__opportunity as o
left join marts.dim_stage as st on st.stage_name = o.stage_name
inner join marts.dim_fiscal_calendar as c on c.date_day = o.close_date
where {{ rules.is_won('o.is_won', 'st.is_won') }}
group by c.fiscal_quarter_label
