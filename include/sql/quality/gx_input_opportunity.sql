{#- The batch Great Expectations validates for opportunities: one row per opportunity with its
    scope and the policy-derived columns the generated expectations test. amount_corporate: Amount
    in the corporate currency (the outlier bound hygiene.amount.outlier_max is in it);
    amount_not_evaluated: why it cannot be compared (its currency has no conversion rate). -#}
{% import 'quality/_scope.sql' as scope -%}
with {% include 'quality/_opportunity_base.sql' %},
{% include '_currency.sql' %},
line_items as (
    select opportunity_id, count(*) as line_item_count
    from {{ tables.opportunity_line_item }}
    group by opportunity_id
)

select
    o.record_id, {{ scope.scope_columns('o') }},
    o.stage_name, o.stage_order, o.is_open, o.is_won,
    o.account_id, o.amount, o.close_date, o.forecast_category, o.next_step, o.last_activity_date,
    o.type, o.lead_source, o.loss_reason,
    oc.amount_corporate,
    case when oc.is_excluded then oc.exclusion_reason end as amount_not_evaluated,
    coalesce(li.line_item_count, 0) as line_item_count,
    -- hygiene.amount.closed_lost_zero_allowed: a lost deal's 0 is not an invalid amount
    coalesce({{ lost_zero_allowed }} and not o.is_open and not o.is_won and o.amount = 0, false)
        as amount_zero_allowed,
    datediff('day', o.close_date, cast(:as_of_date as date)) as days_past_close,
    datediff('day', o.last_activity_date, cast(:as_of_date as date)) as days_since_activity
from opp o
left join line_items li on li.opportunity_id = o.record_id
left join opp_currency oc on oc.opportunity_id = o.record_id
