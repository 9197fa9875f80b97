{#- Validation of a proposed territory map: which overridden accounts exist. -#}
{% import 'bulk_update/_macros.sql' as bu %}
select a.id
from staging.stg_crm__account as a
inner join {{ bu.values_table_or_empty('account_override', ['account_id', 'user_ref'], n_overrides) }} as o
    on o.account_id = a.id
