{#- CTEs shared by the opportunity checks: stage policy (stages.yaml), users, and opportunities
    with their scope (owner's team/region/manager) and policy-derived columns. Include after `with`. -#}
{% import 'rules.sql' as rules -%}
{% import 'quality/_scope.sql' as scope -%}
stage_policy as (
    select * from (values
    {%- for s in stages %}
        ({{ s.name }}, {{ s.order }}, {{ s.is_closed }}, {{ s.is_won }}){{ "," if not loop.last }}
    {%- endfor %}
    ) as t (stage_name, stage_order, stage_is_closed, stage_is_won)
),
users as (
    select id, manager_id, team, region, is_active from {{ tables.user }}
),
opp as (
    select
        {{ scope.owner_scoped('o', 'u') | indent(8) }},
        o.account_id,
        o.stage_name,
        sp.stage_order,
        -- IsClosed / IsWon as the CRM stores them, else the stage policy (rules.sql)
        not {{ rules.is_closed('o.is_closed', 'sp.stage_is_closed') }} as is_open,
        {{ rules.is_won('o.is_won', 'sp.stage_is_won') }} as is_won,
        o.amount,
        o.close_date,
        o.forecast_category,
        o.next_step,
        o.last_activity_date,
        o.type,
        o.lead_source,
        o.loss_reason
    from {{ tables.opportunity }} o
    left join stage_policy sp on sp.stage_name = o.stage_name
    left join users u on u.id = o.owner_id
)
