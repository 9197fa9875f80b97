{#- A user's display name (owner-scoped packs are titled with it). -#}
select name from staging.stg_crm__user where id = :owner_id
