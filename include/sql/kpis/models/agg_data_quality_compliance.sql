-- depends_on: kpi_policy_list, agg_field_completeness, fct_lead_speed_to_lead
-- grain: metric
-- description: Data completeness and hygiene compliance, company-wide: one row per quality
-- description: scorecard metric of include/config/quality.yaml with the value, target and met flag
-- description: of the latest quality run (quality.scorecard, scope all), null when the quality job has
-- description: not run. For required_field_completeness and routing_sla the KPI models' own figure is
-- description: shown next to it (kpi_value) so the two can be compared.
{% import 'rules.sql' as rules -%}
with metric as (
    select value as metric, position from marts.kpi_policy_list where list_name = 'quality_scorecard_metric'
),

{% if quality_scorecard %}
latest_run as (
    select run_id, as_of from quality.scorecard order by as_of desc, run_id desc limit 1
),

scorecard as (
    select s.metric, s.as_of, s.numerator, s.denominator, s.value, s.target, s.comparator, s.met
    from quality.scorecard as s
    inner join latest_run as r on r.run_id = s.run_id
    where s.scope_type = 'all'
),
{% else %}
scorecard as (
    select
        cast(null as varchar) as metric, cast(null as timestamp) as as_of, cast(null as double) as numerator,
        cast(null as double) as denominator, cast(null as double) as value, cast(null as double) as target,
        cast(null as varchar) as comparator, cast(null as boolean) as met
    where 1 = 0
),
{% endif %}

kpi as (
    select 'required_field_completeness' as metric, completeness_rate as kpi_value
    from marts.agg_field_completeness
    where stage_name = '(all)' and field_api_name = '(all)'
    union all
    select 'routing_sla',
           {{ rules.routing_sla_compliance_rate(
               "sum(case when sla_status = 'met' then 1 else 0 end)",
               "sum(case when sla_status = 'breached' then 1 else 0 end)",
           ) }}
    from marts.fct_lead_speed_to_lead
)

select
    m.metric,
    m.position,
    s.as_of as scorecard_as_of,
    s.numerator,
    s.denominator,
    s.value as scorecard_value,
    s.target,
    s.comparator,
    s.met,
    k.kpi_value
from metric as m
left join scorecard as s on s.metric = m.metric
left join kpi as k on k.metric = m.metric
