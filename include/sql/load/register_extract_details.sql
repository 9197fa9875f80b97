{#- Extract details of a landed batch (see create_tables.sql). -#}
update ops.load_audit set
    api_calls = :api_calls,
    extract_method = :extract_method,
    ids_reconciled = :ids_reconciled,
    formulas_refreshed = :formulas_refreshed,
    warning = :warning
where batch_id = :batch_id;
