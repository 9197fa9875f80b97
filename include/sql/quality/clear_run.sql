{#- Re-running a run id replaces its rows (idempotent). The exception queue is folded, not cleared. -#}
delete from quality.check_result where run_id = :run_id;
delete from quality.run_exception where run_id = :run_id;
delete from quality.run_not_evaluated where run_id = :run_id;
delete from quality.scorecard where run_id = :run_id;
delete from quality.duplicate_cluster where run_id = :run_id;
delete from quality.ticket where run_id = :run_id;
delete from quality.run where run_id = :run_id;
