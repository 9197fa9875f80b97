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

-- One row per opportunity with the fields it has filled; opportunities at the same stage with the
-- same filled fields are then counted once (a few hundred profiles instead of 5 M
-- opportunity x required-field rows).
filled as (
    select
        o.stage_name,
{%- for f in required_field_columns %}
        {% if f.column in ('owner_id',) %}o.owner_id <> '(none)'{% elif f.column == 'type' %}o.opportunity_type is not null{% else %}o.{{ f.column }} is not null{% endif %} as filled_{{ loop.index }},
{%- endfor %}
        li.opportunity_id is not null as filled_products
    from opportunity as o
    left join line_item as li on li.opportunity_id = o.opportunity_id
    where o.stage_name in (select stage_name from required)
),

profile as (
    select
        stage_name,
{%- for f in required_field_columns %}
        filled_{{ loop.index }},
{%- endfor %}
        filled_products,
        count(*) as opportunity_count
    from filled
    group by stage_name,{% for f in required_field_columns %} filled_{{ loop.index }},{% endfor %} filled_products
),

checks as (
    select
        p.*,
        r.field_api_name,
        case r.field_api_name
{%- for f in required_field_columns %}
            when '{{ f.api_name }}' then p.filled_{{ loop.index }}
{%- endfor %}
            when 'Products' then p.filled_products
        end as is_filled
    from profile as p
    inner join required as r on r.stage_name = p.stage_name
),

per_profile as (
    select
        stage_name,
        opportunity_count,
        min(case when coalesce(is_filled, false) then 1 else 0 end) as all_filled
    from checks
    group by stage_name,{% for f in required_field_columns %} filled_{{ loop.index }},{% endfor %} filled_products, opportunity_count
),

by_field as (
    select stage_name, field_api_name, cast(sum(opportunity_count) as bigint) as opportunity_count,
           sum(case when coalesce(is_filled, false) then opportunity_count else 0 end) as filled_count
    from checks
    group by stage_name, field_api_name
    union all
    select '(all)', field_api_name, cast(sum(opportunity_count) as bigint),
           sum(case when coalesce(is_filled, false) then opportunity_count else 0 end)
    from checks
    group by field_api_name
    union all
    select stage_name, '(all)', cast(sum(opportunity_count) as bigint), sum(all_filled * opportunity_count)
    from per_profile
    group by stage_name
    union all
    select '(all)', '(all)', cast(sum(opportunity_count) as bigint), sum(all_filled * opportunity_count)
    from per_profile
    having count(*) > 0
)

select
    b.*,
    case when b.opportunity_count > 0 then cast(b.filled_count as double) / b.opportunity_count end as completeness_rate
from by_field as b
