{#- The demo CRM's record of deletions, for read_deleted (registered as _sim_deletes). -#}
-- noqa: disable=CP02, RF06
insert into deleted_records select api_name, Id, deleted_at from _sim_deletes
