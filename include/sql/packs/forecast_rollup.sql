{#- Forecast rollup of the scope for the current and next fiscal quarter (marts.agg_forecast_rollup;
    a team = the sum of its reps' rows, every column is a sum). -#}
{% import 'packs/_scope.sql' as s %}
{% import 'rules.sql' as rules %}
with rollup_rows as (
    select * from marts.agg_forecast_rollup
),

ctx as (
    select * from marts.kpi_context
),

quarters as (
    {{ rules.current_and_next_quarters('ctx') }}
),

scoped as (
    select
        f.quarter_relative,
{%- for stem in categories %}
        sum(f.{{ stem }}_amount) as {{ stem }}_amount,
        sum(f.{{ stem }}_count) as {{ stem }}_count,
{%- endfor %}
        sum(f.weighted_pipeline_amount) as weighted_pipeline_amount,
        sum(f.commit_forecast_amount) as commit_forecast_amount,
        sum(f.best_case_forecast_amount) as best_case_forecast_amount
    {{ s.scoped_rollup_rows('rollup_rows', 'f') }}
    group by f.quarter_relative
)

select
    q.quarter_relative,
    q.fiscal_quarter,
{%- for stem in categories %}
    coalesce(x.{{ stem }}_amount, 0) as {{ stem }}_amount,
    coalesce(x.{{ stem }}_count, 0) as {{ stem }}_count,
{%- endfor %}
    coalesce(x.weighted_pipeline_amount, 0) as weighted_pipeline_amount,
    coalesce(x.commit_forecast_amount, 0) as commit_forecast_amount,
    coalesce(x.best_case_forecast_amount, 0) as best_case_forecast_amount
from quarters as q
left join scoped as x on x.quarter_relative = q.quarter_relative
order by q.quarter_order
