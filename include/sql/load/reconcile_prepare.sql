{#- Id reconciliation, prepared (temporary table only; on Snowflake before the load's transaction):
    staged records whose id the source no longer has (a full list of live ids in {{ relation }}),
    leaving out the ids this batch's own deletes handle. -#}
create or replace temporary table _reconciled as
select s.{{ obj.key_column }} as id
from {{ obj.staging_table }} as s
where
    s.{{ obj.cursor_column }} <= cast(:until as timestamp)
    and not exists (select 1 from {{ relation }} as l where l."id" = s.{{ obj.key_column }})  -- noqa: RF06
    and not exists (select 1 from _deletes as d where d.id = s.{{ obj.key_column }});
