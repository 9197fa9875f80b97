update quality.anomaly
set ticket_path = :ticket_path, likely_cause = :likely_cause, alert_log = :alert_log, alerted_at = :alerted_at
where anomaly_id = :anomaly_id
