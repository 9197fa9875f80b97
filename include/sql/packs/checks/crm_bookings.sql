{#- Warehouse total for the pack check: closed-won amount per fiscal quarter of the close date, from
    staging (company-wide), for the quarters the pack shows.  Amounts in the corporate currency
    (int_opportunity_currency); deals whose currency has no rate are left out, as in the marts. -#}
{% import 'rules.sql' as rules -%}
select c.fiscal_quarter_label as period_label, sum(coalesce(cur.amount_corporate, 0)) as crm_bookings_amount
from staging.stg_crm__opportunity as o
inner join marts.int_opportunity_currency as cur on cur.opportunity_id = o.id and not cur.is_excluded
left join marts.dim_stage as st on st.stage_name = o.stage_name
inner join marts.dim_fiscal_calendar as c on c.date_day = o.close_date
where {{ rules.is_won('o.is_won', 'st.is_won') }}
group by c.fiscal_quarter_label
