{#- Each staged record's parent id (the lookup a write locks), to sort Bulk ingest rows by parent. -#}
select
    {{ obj.key_column }} as record_id,
    {{ parent_column }} as parent_id
from {{ obj.staging_table }}
