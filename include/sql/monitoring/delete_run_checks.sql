delete from quality.anomaly_check where run_id = :run_id
