{#- Validation of a proposed territory map: the CRM's users (owners are named by id or email). -#}
select id, name, email, is_active from staging.stg_crm__user
