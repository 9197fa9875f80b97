-- depends_on: int_lead_enriched
-- grain: created_fiscal_quarter, lead_source, segment
-- description: Lead funnel by the fiscal quarter the lead was created in, lead source and routing
-- description: segment: leads that reached each lifecycle stage (kpis.yaml lead_funnel.stages,
-- description: reaching a stage counts every earlier one) and the step conversion rates
-- description: (<from>_to_<to>_rate = reached <to> / reached <from>, null when none reached <from>).
with lead as (
    select * from marts.int_lead_enriched
),

counts as (
    select
        coalesce(created_fiscal_quarter, '(none)') as created_fiscal_quarter,
        coalesce(lead_source, '(none)') as lead_source,
        segment,
{%- for s in funnel_stages %}
        sum(case when highest_funnel_rank >= {{ s.rank }} then 1 else 0 end) as {{ s.column }}_count{% if not loop.last %},{% endif %}
{%- endfor %}
    from lead
    group by coalesce(created_fiscal_quarter, '(none)'), coalesce(lead_source, '(none)'), segment
)

select
    c.*
{%- for s in funnel_stages %}{% if not loop.first %},
    case when c.{{ funnel_stages[loop.index0 - 1].column }}_count > 0
           then cast(c.{{ s.column }}_count as double) / c.{{ funnel_stages[loop.index0 - 1].column }}_count
      end as {{ funnel_stages[loop.index0 - 1].column }}_to_{{ s.column }}_rate
{%- endif %}{% endfor %}
{%- if funnel_stages | length > 2 %},
    case when c.{{ funnel_stages[0].column }}_count > 0
           then cast(c.{{ funnel_stages[-1].column }}_count as double) / c.{{ funnel_stages[0].column }}_count
      end as {{ funnel_stages[0].column }}_to_{{ funnel_stages[-1].column }}_rate
{%- endif %}
from counts as c
