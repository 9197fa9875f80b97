-- depends_on: int_opportunity_enriched, dim_stage_required_field
-- grain: stage_name, field_api_name
-- description: Completeness of the fields stages.yaml requires at each opportunity's current stage
-- description: (Products = at least one OpportunityLineItem): per stage and field, opportunities at
-- description: the stage, how many have the field and completeness_rate. field_api_name '(all)' =
-- description: opportunities with every required field of their stage; stage_name '(all)' = all stages.
with opportunity as (
    select * from marts.int_opportunity_enriched
),

required as (
    select * from marts.dim_stage_required_field
),

line_item as (
    select distinct opportunity_id from staging.stg_crm__opportunity_line_item
),

checks as (
    select
        o.opportunity_id,
        o.stage_name,
        r.field_api_name,
        case r.field_api_name
{%- for f in required_field_columns %}
            when '{{ f.api_name }}' then {% if f.column in ('owner_id',) %}o.owner_id <> '(none)'{% elif f.column == 'type' %}o.opportunity_type is not null{% else %}o.{{ f.column }} is not null{% endif %}
{%- endfor %}
            when 'Products' then li.opportunity_id is not null
        end as is_filled
    from opportunity as o
    inner join required as r on r.stage_name = o.stage_name
    left join line_item as li on li.opportunity_id = o.opportunity_id
),

per_opportunity as (
    select opportunity_id, stage_name, min(case when coalesce(is_filled, false) then 1 else 0 end) as all_filled
    from checks
    group by opportunity_id, stage_name
),

by_field as (
    select stage_name, field_api_name, count(*) as opportunity_count,
           sum(case when coalesce(is_filled, false) then 1 else 0 end) as filled_count
    from checks
    group by stage_name, field_api_name
    union all
    select '(all)', field_api_name, count(*), sum(case when coalesce(is_filled, false) then 1 else 0 end)
    from checks
    group by field_api_name
    union all
    select stage_name, '(all)', count(*), sum(all_filled)
    from per_opportunity
    group by stage_name
    union all
    select '(all)', '(all)', count(*), sum(all_filled)
    from per_opportunity
    having count(*) > 0
)

select
    b.*,
    case when b.opportunity_count > 0 then cast(b.filled_count as double) / b.opportunity_count end as completeness_rate
from by_field as b
