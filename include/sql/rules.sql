{#- Domain rules written once and imported by every SQL file that applies them
    ({% import 'rules.sql' as rules %}). Dialect differences live in macros.sql, not here. -#}

{#- Reconciliation variance (metrics.yaml bookings_variance_amount): CRM minus finance as a share of
    finance; null when finance is 0 (there is nothing to be a share of). Used by the mart
    agg_bookings_reconciliation and by the quality check reconciliation_variance. -#}
{%- macro reconciliation_variance_pct(crm, finance) -%}
case when {{ finance }} <> 0 then ({{ crm }} - {{ finance }}) / {{ finance }} end
{%- endmacro -%}

{#- Where a staged record came from: its file and line in a CSV export ("bookings_2026-12.csv line
    3", the raw row's _origin, kept by the loader), null for API sources. `staged` is the alias of
    a staging relation (id, _batch_id); the staged version is the latest row of that id in its
    batch. Used by the KPI build's stop on unconverted quotas and bookings
    (kpis/unconverted_amounts.sql) and the quality reasons of bookings without a rate
    (_currency.sql booking_unconverted). -#}
{%- macro record_origin(raw_table, staged) -%}
(
    select max_by(r._origin, r._row_number)
    from {{ raw_table }} as r
    where r._batch_id = {{ staged }}._batch_id and r."Id" = {{ staged }}.id
)
{%- endmacro -%}

{#- Closed and won (stages.yaml): the CRM's own IsClosed / IsWon flag, else the stage policy's
    is_closed / is_won for the opportunity's stage, else false (an unknown stage with no flag is
    open and not won). Used by int_opportunity_enriched, fct_pipeline_snapshot, the quality
    opportunity checks (quality/_opportunity_base.sql) and the pack checks. -#}
{%- macro is_closed(crm_flag, stage_flag) -%}
coalesce({{ crm_flag }}, {{ stage_flag }}, false)
{%- endmacro -%}

{%- macro is_won(crm_flag, stage_flag) -%}
coalesce({{ crm_flag }}, {{ stage_flag }}, false)
{%- endmacro -%}

{#- Multi-currency (Salesforce Advanced Currency Management; HubSpot rates mapped to the same
    shape): a dated rate applies from start_date up to, not including, next_start_date (null = still
    current). Rates are Salesforce's: units of the currency per 1 unit of the corporate currency,
    so the corporate amount is amount / rate, rounded to the cent. Used only by corporate_amounts
    below (every conversion goes through it). -#}
{%- macro dated_rate_covers(rate, day) -%}
({{ rate }}.start_date <= {{ day }} and ({{ rate }}.next_start_date is null or {{ day }} < {{ rate }}.next_start_date))
{%- endmacro -%}

{%- macro to_corporate(amount, rate) -%}
cast(round({{ amount }} / {{ rate }}, 2) as decimal(18, 2))
{%- endmacro -%}

{#- Corporate amounts, the conversion written once: every row of `records` (a relation or CTE with
    record_id, currency_iso_code, amount, rate_day) in the corporate currency of `currency` (a
    relation shaped like marts.dim_currency: iso_code, is_corporate, conversion_rate). A record
    without a currency is in the corporate currency; the corporate currency converts at 1; else the
    dated rate (`dated`, shaped like stg_crm__dated_conversion_rate) of its currency whose range
    covers rate_day (`dated=none`: static rates only, e.g. ForecastingQuota, to which Advanced
    Currency Management's dated rates do not apply), else its currency's static rate. No usable
    rate: amount_corporate is null, currency_status 'no_rate', and when the record has an amount
    is_excluded is true and exclusion_reason says why (`day_label` names rate_day's field).
    Used by int_opportunity_currency, int_booking_currency, int_quota_currency and the quality
    checks that compare amounts (_currency.sql, before the KPI build). -#}
{%- macro corporate_amounts(records, currency, day_label, dated='staging.stg_crm__dated_conversion_rate') -%}
with currency_resolved as (
    select
        rec.record_id,
        coalesce(rec.currency_iso_code, corp.iso_code) as currency_iso_code,
        rec.currency_iso_code is null as currency_defaulted,
        corp.iso_code as corporate_currency,
        rec.amount as amount_original,
        rec.rate_day
    from {{ records }} as rec
    cross join (select iso_code from {{ currency }} where is_corporate) as corp
),

currency_dated_match as (
    {%- if dated %}
    -- overlapping ranges (bad rate data) must not duplicate a record: the latest start wins
    select
        r.record_id,
        d.conversion_rate,
        d.start_date,
        row_number() over (partition by r.record_id order by d.start_date desc, d.id desc) as pick
    from currency_resolved as r
    inner join {{ dated }} as d
        on d.iso_code = r.currency_iso_code
        and d.conversion_rate > 0
        and {{ dated_rate_covers('d', 'r.rate_day') }}
    {%- else %}
    select
        record_id,
        cast(null as double) as conversion_rate,
        cast(null as date) as start_date,
        1 as pick
    from currency_resolved
    where false
    {%- endif %}
),

currency_rated as (
    select
        r.*,
        case
            when r.currency_iso_code = r.corporate_currency then 1.0
            when dm.conversion_rate is not null then dm.conversion_rate
            else c.conversion_rate
        end as conversion_rate,
        case
            when r.currency_iso_code = r.corporate_currency then 'corporate'
            when dm.conversion_rate is not null then 'dated'
            when c.conversion_rate is not null then 'currency_type'
        end as rate_source,
        case when r.currency_iso_code <> r.corporate_currency then dm.start_date end as rate_start_date
    from currency_resolved as r
    left join currency_dated_match as dm on dm.record_id = r.record_id and dm.pick = 1
    left join {{ currency }} as c on c.iso_code = r.currency_iso_code
)

select
    record_id,
    currency_iso_code,
    currency_defaulted,
    corporate_currency,
    amount_original,
    rate_day,
    conversion_rate,
    rate_source,
    rate_start_date,
    case
        when rate_source = 'corporate' then amount_original
        when conversion_rate is not null then {{ to_corporate('amount_original', 'conversion_rate') }}
    end as amount_corporate,
    case
        when rate_source = 'corporate' then 'corporate'
        when rate_source is not null then 'converted'
        else 'no_rate'
    end as currency_status,
    rate_source is null and amount_original is not null as is_excluded,
    case
        when rate_source is null and amount_original is not null then
            'no conversion rate for ' || currency_iso_code || ' to ' || corporate_currency || ': '
            {%- if dated %}
            || 'no DatedConversionRate covers {{ day_label }} '
            || coalesce(cast(rate_day as varchar), '(none)') || ' and '
            {%- endif %}
            || 'CurrencyType has no usable ' || currency_iso_code || ' rate'
    end as exclusion_reason
from currency_rated
{%- endmacro -%}

{#- The columns of a corporate-amount model (int_opportunity_currency, int_booking_currency,
    int_quota_currency) over corporate_amounts' select: its record id named `record_id` and its rate
    day `rate_day` (CloseDate, BookingDate, StartDate); `dated=false` for a conversion without dated
    rates (no rate_start_date). -#}
{%- macro corporate_amount_columns(record_id, rate_day, dated=true) -%}
record_id as {{ record_id }},
currency_iso_code,
currency_defaulted,
corporate_currency,
amount_original,
rate_day as {{ rate_day }},
conversion_rate,
rate_source,
{%- if dated %}
rate_start_date,
{%- endif %}
amount_corporate,
currency_status,
is_excluded,
exclusion_reason
{%- endmacro -%}

{#- Routing segment (territories.yaml segments): the band of the record's NumberOfEmployees in
    marts.dim_segment_band (a reference table, salesops/reference.py), else the record's own
    Segment__c. `segment_band_join` joins the band table as `alias`; `segment` is the result.
    Used by int_lead_routed (leads: the quality routing checks, speed-to-lead, the packs and the
    reassign_leads plan include it) and by the territory_change plan (accounts). -#}
{%- macro segment_band_join(employees, alias) -%}
left join marts.dim_segment_band as {{ alias }}
        on {{ employees }} >= {{ alias }}.min_employees
        and ({{ alias }}.max_employees_exclusive is null or {{ employees }} < {{ alias }}.max_employees_exclusive)
{%- endmacro -%}

{%- macro segment(alias, segment_field) -%}
coalesce({{ alias }}.segment, {{ segment_field }})
{%- endmacro -%}

{#- Reporting quarters of the as-of date (kpi_context `ctx`): the current and the next fiscal quarter,
    with the position a pack lists them in. Used by agg_pipeline_coverage, agg_forecast_rollup and
    the packs that read them (coverage.sql, forecast_rollup.sql). -#}
{%- macro current_and_next_quarters(ctx) -%}
select 'current' as quarter_relative, {{ ctx }}.current_fiscal_quarter_label as fiscal_quarter,
           {{ ctx }}.current_fiscal_quarter_index as fiscal_quarter_index, 1 as quarter_order from {{ ctx }}
    union all
    select 'next', {{ ctx }}.next_fiscal_quarter_label, {{ ctx }}.next_fiscal_quarter_index, 2 from {{ ctx }}
{%- endmacro -%}

{#- The last :quarters fiscal quarters up to the current one of the as-of date (kpi_context `ctx`,
    bind parameter :quarters). `in_last_quarters` tests a fiscal quarter index; `last_quarters` lists
    the quarters (label, index) from marts.dim_fiscal_calendar. Used by the packs' trend tables. -#}
{%- macro in_last_quarters(index, ctx) -%}
{{ index }} between {{ ctx }}.current_fiscal_quarter_index - :quarters + 1 and {{ ctx }}.current_fiscal_quarter_index
{%- endmacro -%}

{%- macro last_quarters(ctx) -%}
select distinct c.fiscal_quarter_label, c.fiscal_quarter_index
    from marts.dim_fiscal_calendar as c
    cross join {{ ctx }}
    where {{ in_last_quarters('c.fiscal_quarter_index', ctx) }}
{%- endmacro -%}

{#- Pipeline coverage (metrics.yaml pipeline_coverage_ratio, pipeline_coverage_of_remaining_ratio): open pipeline over
    quota, and over the quota still to close (quota - closed won); null when the denominator is not
    positive. Used by the mart agg_pipeline_coverage and the pack's team rollup (packs/coverage.sql). -#}
{%- macro coverage_ratio(open_amount, quota) -%}
case when {{ quota }} > 0 then {{ open_amount }} / {{ quota }} end
{%- endmacro -%}

{%- macro coverage_of_remaining_ratio(open_amount, quota, won_amount) -%}
case when {{ quota }} - {{ won_amount }} > 0
         then {{ open_amount }} / ({{ quota }} - {{ won_amount }}) end
{%- endmacro -%}

{#- Quota-carrying roles (kpis.yaml coverage.rollup_quota_roles, seeded as marts.kpi_policy_list
    quota_rollup_role): above the rep level only their quotas are summed, so a manager's own quota
    is not counted twice; an empty list means every role carries quota. `quota_roles` is a relation
    with a user_role column. Used by agg_pipeline_coverage and the packs' coverage.sql (a team's
    quota) and coverage_by_rep.sql (the reps listed under it). -#}
{%- macro carries_quota(role, quota_roles) -%}
(not exists (select 1 from {{ quota_roles }}) or {{ role }} in (select user_role from {{ quota_roles }}))
{%- endmacro -%}

{#- Routing SLA compliance (metrics.yaml routing_sla_compliance_rate): leads assigned within their
    SLA over leads assigned (met + breached); unassigned leads past their SLA and pending ones are
    not in the rate. Used by agg_speed_to_lead, agg_data_quality_compliance and the routing packs. -#}
{%- macro routing_sla_compliance_rate(met, breached) -%}
case when {{ met }} + {{ breached }} > 0
         then cast({{ met }} as double) / ({{ met }} + {{ breached }}) end
{%- endmacro -%}

{#- The mean of a DOUBLE measure (hours between two time stamps), the same to the last bit on every
    run: each value as a DECIMAL(38, 12) (finer than the measure's millisecond source) so the sum is
    exact integer arithmetic. A DOUBLE avg's last bits depend on the order DuckDB's threads add the
    values in, and a pack's fingerprint (packs/render.py) hashes every bit: identical data would
    look changed (issue 15). Used by agg_speed_to_lead and the routing_sla pack. -#}
{%- macro stable_avg(expr) -%}
avg(cast({{ expr }} as decimal(38, 12)))
{%- endmacro -%}

{#- Weighted amount (metrics.yaml weighted_forecast_amount) of one deal: amount x probability / 100
    as a DECIMAL(38, 6) (exact for a 2-decimal amount and a 2-decimal percent), so every sum of it
    (agg_forecast_rollup, agg_open_pipeline_by_close_quarter, the forecast pack's team rows) is exact
    and the same on every run; a DOUBLE sum's last bits vary with the summation order. Used by
    int_opportunity_enriched. -#}
{%- macro weighted_amount(amount, probability) -%}
cast({{ amount }} * {{ probability }} / 100.0 as decimal(38, 6))
{%- endmacro -%}

{#- Win rates (metrics.yaml): won over won + lost (lost excludes the excluded loss reasons), by count
    (as a double) and by amount; null without closed deals. Used by agg_closed_deal_metrics and the
    pack's win/loss trend. -#}
{%- macro win_rate_by_count(won, lost) -%}
case when {{ won }} + {{ lost }} > 0
         then cast({{ won }} as double) / ({{ won }} + {{ lost }}) end
{%- endmacro -%}

{%- macro win_rate_by_amount(won, lost) -%}
case when {{ won }} + {{ lost }} > 0
         then {{ won }} / ({{ won }} + {{ lost }}) end
{%- endmacro -%}

{#- Excluded loss (kpis.yaml win_rate.excluded_loss_reasons, seeded as marts.kpi_policy_list
    excluded_loss_reason): a lost deal whose loss reason is on the list (duplicates, merged,
    unqualified) is left out of win rates, stage conversion and cohort win rates. `o` is an alias of
    int_opportunity_enriched (is_lost, loss_reason). Used by agg_closed_deal_metrics,
    agg_stage_conversion and the pack's cohort_conversion. -#}
{%- macro is_excluded_loss(o) -%}
coalesce({{ o }}.is_lost and {{ o }}.loss_reason in (
    select value from marts.kpi_policy_list where list_name = 'excluded_loss_reason'
), false)
{%- endmacro -%}

{#- Bookings per fiscal period (metrics.yaml period_grain / period_label): one branch per grain of
    `grains` (kpis.yaml period grains: fiscal_month, fiscal_quarter, fiscal_year), grouping the rows
    of `relation` (which carry <grain>_label from marts.dim_fiscal_calendar) by the period's label
    and `dimensions`, with the aggregates `measures` (a list of select expressions). Used by
    agg_bookings_by_period, agg_bookings_by_product_family and both sides (CRM and finance) of
    agg_bookings_reconciliation. -#}
{%- macro bookings_by_period(relation, grains, measures, dimensions=[]) -%}
{%- for grain in grains %}
    select
        '{{ grain }}' as period_grain,
        {{ grain }}_label as period_label,
        {%- for d in dimensions %}
        {{ d }},
        {%- endfor %}
        {%- for m in measures %}
        {{ m }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by {{ grain }}_label{% for d in dimensions %}, {{ d }}{% endfor %}
{%- if not loop.last %}
    union all
{%- endif %}
{%- endfor %}
{%- endmacro -%}
