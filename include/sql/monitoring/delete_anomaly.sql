delete from quality.anomaly where anomaly_id = :anomaly_id
