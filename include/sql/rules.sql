{#- Domain rules written once and imported by every SQL file that applies them
    ({% import 'rules.sql' as rules %}). Dialect differences live in macros.sql, not here. -#}

{#- Reconciliation variance (metrics.yaml bookings_variance_amount): CRM minus finance as a share of
    finance; null when finance is 0 (there is nothing to be a share of). Used by the mart
    agg_bookings_reconciliation and by the quality check reconciliation_variance. -#}
{%- macro reconciliation_variance_pct(crm, finance) -%}
case when {{ finance }} <> 0 then ({{ crm }} - {{ finance }}) / {{ finance }} end
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
    so the corporate amount is amount / rate, rounded to the cent. Used by int_opportunity_currency
    and fct_pipeline_snapshot (history-rebuilt days use the rate of the rebuilt close date). -#}
{%- macro dated_rate_covers(rate, day) -%}
({{ rate }}.start_date <= {{ day }} and ({{ rate }}.next_start_date is null or {{ day }} < {{ rate }}.next_start_date))
{%- endmacro -%}

{%- macro to_corporate(amount, rate) -%}
cast(round({{ amount }} / {{ rate }}, 2) as decimal(18, 2))
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
