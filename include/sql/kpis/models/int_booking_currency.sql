-- depends_on: dim_currency
-- grain: booking_id
-- description: Each finance booking's amount in the corporate currency (issue 13). A booking with a
-- description: currency (the finance export's or FinanceBooking's CurrencyIsoCode) converts like an
-- description: opportunity (rules.sql corporate_amounts): the DatedConversionRate covering its
-- description: BookingDate, else the currency's CurrencyType rate; no currency = the corporate
-- description: currency. A booking whose currency has no rate stops the KPI build with the record,
-- description: field and source named (kpis/unconverted_amounts.sql): finance figures are never
-- description: summed at face value or left out. The quality run includes this select too.
{% import 'rules.sql' as rules -%}
with booking as (
    select id as record_id, amount, booking_date as rate_day, currency_iso_code
    from staging.stg_finance__booking
),

converted as (
    {{ rules.corporate_amounts('booking', currency_relation | default('marts.dim_currency'), 'BookingDate') | indent(4) }}
)

select
    {{ rules.corporate_amount_columns('booking_id', 'booking_date') | indent(4) }}
from converted
