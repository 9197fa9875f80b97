-- depends_on: int_opportunity_currency
-- grain: currency_iso_code
-- description: Per opportunity currency: how many opportunities, how many converted to the corporate
-- description: currency (by dated rate, by CurrencyType rate, or already corporate), how many are
-- description: excluded from every KPI because their currency has no rate, and the amounts in the
-- description: original currency and in the corporate currency. The count of excluded deals the packs show.
with conversion as (
    select * from marts.int_opportunity_currency
)

select
    currency_iso_code,
    max(corporate_currency) as corporate_currency,
    count(*) as opportunities,
    sum(case when currency_status <> 'no_rate' then 1 else 0 end) as opportunities_converted,
    sum(case when rate_source = 'dated' then 1 else 0 end) as opportunities_dated_rate,
    sum(case when rate_source = 'currency_type' then 1 else 0 end) as opportunities_static_rate,
    sum(case when is_excluded then 1 else 0 end) as opportunities_excluded,
    coalesce(sum(amount_original), 0) as amount_original,
    coalesce(sum(case when is_excluded then amount_original end), 0) as amount_excluded_original,
    coalesce(sum(amount_corporate), 0) as amount_corporate
from conversion
group by currency_iso_code
