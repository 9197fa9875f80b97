{#- How many staged rows the batch's deletes will remove, computed before apply_deletes.sql runs
    (temporary table only, so on Snowflake this runs before the load's transaction). It counts
    against staging as it will be after merge_staging.sql: a delete removes a row unless that
    row is newer than the delete (the record was undeleted). -#}
create or replace temporary table _deleted_counts as
with
{%- if staging_empty and not has_duplicates %}
merged as (
    select
        {{ obj.key_column }} as id,
        {{ obj.cursor_column }} as cursor_value
    from _typed
    where _n_bad = 0 and {{ obj.key_column }} in (select id from _deletes)
)
{%- else %}
staged as (
    select * from {{ obj.staging_table }}
    where {{ obj.key_column }} in (select id from _deletes)
),

incoming as (
    select * from _good
    where {{ obj.key_column }} in (select id from _deletes)
),

merged as (
    select
        coalesce(g.{{ obj.key_column }}, s.{{ obj.key_column }}) as id,
        case
            when g.{{ obj.key_column }} is not null
                and (s.{{ obj.key_column }} is null or g.{{ obj.cursor_column }} > s.{{ obj.cursor_column }})
                then g.{{ obj.cursor_column }}
            else s.{{ obj.cursor_column }}
        end as cursor_value
    from staged as s
    full outer join incoming as g on s.{{ obj.key_column }} = g.{{ obj.key_column }}
)
{%- endif %}

select count(*) as rows_deleted
from merged as m
where exists (select 1 from _deletes as d where d.id = m.id and d.deleted_at >= m.cursor_value);
