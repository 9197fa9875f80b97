{#- Every value of one scope type among users (for audiences with values "*"). -#}
select distinct {{ column }} as scope_value
from staging.stg_crm__user
where {{ column }} is not null
order by 1
